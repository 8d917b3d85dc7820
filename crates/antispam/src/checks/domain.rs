//! The registered domain of a host name (`www.shop.example.co.uk` → `example.co.uk`), what
//! URI block lists and the MX test look at.
//!
//! There is no full public suffix list here: a small built-in list of common two-level
//! suffixes (`co.uk`, `com.au`, ...) is known; under any other suffix the last two labels are
//! the registered domain.

/// Common two-level public suffixes.
const TWO_LEVEL: &[&str] = &[
    "ac.uk", "co.uk", "gov.uk", "ltd.uk", "me.uk", "net.uk", "org.uk", "plc.uk", "sch.uk", "com.au", "net.au",
    "org.au", "edu.au", "gov.au", "asn.au", "id.au", "co.nz", "net.nz", "org.nz", "govt.nz", "ac.nz", "co.jp", "ne.jp",
    "or.jp", "ac.jp", "go.jp", "co.kr", "or.kr", "ne.kr", "co.za", "org.za", "web.za", "com.br", "net.br", "org.br",
    "gov.br", "com.cn", "net.cn", "org.cn", "gov.cn", "com.hk", "com.tw", "com.sg", "com.my", "co.in", "net.in",
    "org.in", "firm.in", "gen.in", "ind.in", "com.mx", "com.ar", "com.co", "com.tr", "com.ua", "co.il", "co.id",
    "co.th", "in.th", "com.pl", "net.pl", "org.pl", "com.ru", "org.ru", "net.ru", "co.at", "or.at", "com.es", "com.pt",
    "com.gr", "com.cy", "com.eg", "com.sa", "com.ng", "co.ke", "com.pk", "com.ph", "com.vn",
];

/// The registered domain of `host` (lower case, without a trailing dot), or None for an IP
/// address, a single label or an empty name.
pub fn registered(host: &str) -> Option<String> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    if host.is_empty() || host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 2 || labels.iter().any(|l| l.is_empty()) {
        return None;
    }
    let last_two = labels[labels.len() - 2..].join(".");
    let keep = if TWO_LEVEL.contains(&last_two.as_str()) { 3 } else { 2 };
    if labels.len() < keep {
        return None;
    }
    Some(labels[labels.len() - keep..].join("."))
}

#[cfg(test)]
mod tests {
    use super::registered;

    #[test]
    fn registered_domains() {
        assert_eq!(registered("www.Example.COM.").as_deref(), Some("example.com"));
        assert_eq!(registered("example.com").as_deref(), Some("example.com"));
        assert_eq!(registered("a.b.shop.example.co.uk").as_deref(), Some("example.co.uk"));
        assert_eq!(registered("co.uk"), None);
        assert_eq!(registered("localhost"), None);
        assert_eq!(registered("192.0.2.1"), None);
        assert_eq!(registered("a..b"), None);
        assert_eq!(registered(""), None);
    }
}
