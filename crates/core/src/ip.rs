//! hMailServer's way of storing IP addresses in two BIGINT columns.
//!
//! IPv4: column 1 holds the 32-bit value, column 2 is NULL. IPv6: column 1 holds the high 64 bits
//! and column 2 the low 64 bits, both as signed two's complement (what fits in a BIGINT).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IP address as hMailServer stores it: `(ip1, ip2)`.
pub fn to_columns(ip: IpAddr) -> (i64, Option<i64>) {
    match normalize(ip) {
        IpAddr::V4(v4) => (i64::from(u32::from(v4)), None),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            ((bits >> 64) as u64 as i64, Some(bits as u64 as i64))
        }
    }
}

/// The address stored in `(ip1, ip2)`; `None` when an IPv4 value is out of range.
pub fn from_columns(ip1: i64, ip2: Option<i64>) -> Option<IpAddr> {
    match ip2 {
        None => u32::try_from(ip1).ok().map(|v| IpAddr::V4(Ipv4Addr::from(v))),
        Some(low) => {
            let bits = (u128::from(ip1 as u64) << 64) | u128::from(low as u64);
            Some(IpAddr::V6(Ipv6Addr::from(bits)))
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, as a dual-stack socket reports them) become IPv4.
pub fn normalize(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// True when `ip` lies in the inclusive range `[lower, upper]` of the same family.
pub fn in_range(ip: IpAddr, lower: IpAddr, upper: IpAddr) -> bool {
    match (normalize(ip), lower, upper) {
        (IpAddr::V4(ip), IpAddr::V4(lo), IpAddr::V4(hi)) => lo <= ip && ip <= hi,
        (IpAddr::V6(ip), IpAddr::V6(lo), IpAddr::V6(hi)) => lo <= ip && ip <= hi,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_round_trip() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(to_columns(ip), (2130706433, None));
        assert_eq!(from_columns(2130706433, None), Some(ip));
        assert_eq!(to_columns("255.255.255.255".parse().unwrap()), (4294967295, None));
    }

    #[test]
    fn ipv6_round_trip_with_signed_halves() {
        for s in ["::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::8000:0:0:1", "::"] {
            let ip: IpAddr = s.parse().unwrap();
            let (a, b) = to_columns(ip);
            assert!(b.is_some());
            assert_eq!(from_columns(a, b), Some(ip), "{s}");
        }
        let (hi, lo) = to_columns("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap());
        assert_eq!((hi, lo), (-1, Some(-1)));
    }

    #[test]
    fn mapped_addresses_are_ipv4() {
        let ip: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        assert_eq!(to_columns(ip), (i64::from(u32::from(Ipv4Addr::new(10, 1, 2, 3))), None));
        assert!(in_range(ip, "10.0.0.0".parse().unwrap(), "10.255.255.255".parse().unwrap()));
        assert!(!in_range(ip, "::".parse().unwrap(), "ffff::".parse().unwrap()));
    }
}
