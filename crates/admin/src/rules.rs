//! hMailServer's validation rules for administered objects, as pure functions (hMailServer's
//! `PreSaveLimitationsCheck` and the checks of its COM objects' `Save`).

use altimail_core::address::Address;
use altimail_store::repo::domains::Domain;

use crate::AdminError;

/// Longest texts the hMailServer schema stores (`varchar` sizes of `hm_accounts`).
pub const MAX_ADDRESS: usize = 255;
pub const MAX_NAME: usize = 60;
pub const MAX_VACATION_SUBJECT: usize = 200;

/// Fails when `value` is longer than the column holds.
pub fn check_length(what: &str, value: &str, max: usize) -> Result<(), AdminError> {
    if value.chars().count() > max {
        return Err(AdminError::Invalid(format!("{what} is longer than {max} characters")));
    }
    Ok(())
}

/// Parses an address that must belong to `domain` (an account, alias or list of it).
pub fn address_in(input: &str, domain: &Domain) -> Result<Address, AdminError> {
    let address = Address::parse(input)?;
    check_length("the address", address.as_str(), MAX_ADDRESS)?;
    if !address.domain().eq_ignore_ascii_case(&domain.name) {
        return Err(AdminError::Invalid(format!("{address} is not an address of the domain {}", domain.name)));
    }
    Ok(address)
}

/// A size or limit: never negative, and within the 32-bit column hMailServer keeps it in.
pub fn check_not_negative(what: &str, value: i64) -> Result<(), AdminError> {
    if value < 0 {
        return Err(AdminError::Invalid(format!("{what} cannot be negative")));
    }
    check_int32(what, value)
}

/// A number stored in a 32-bit column (`int`): PostgreSQL and MySQL refuse larger ones.
pub fn check_int32(what: &str, value: i64) -> Result<(), AdminError> {
    if i32::try_from(value).is_err() {
        return Err(AdminError::Invalid(format!("{what} {value} is out of range (at most {})", i32::MAX)));
    }
    Ok(())
}

/// An admin level: 0 user, 1 domain administrator, 2 server administrator.
pub fn check_admin_level(level: i64) -> Result<(), AdminError> {
    if !(0..=2).contains(&level) {
        return Err(AdminError::Invalid(format!(
            "admin level {level}: expected 0 (user), 1 (domain administrator) or 2 (server administrator)"
        )));
    }
    Ok(())
}

/// The quota an account of `domain` may have, given the quotas `others` of the domain's other
/// accounts add up to (MB):
///
/// * with a largest account size, the quota must be set (not unlimited) and within it;
/// * with a domain size, the quota must be set and all accounts' quotas must fit in it.
pub fn check_quota(domain: &Domain, quota_mb: i64, others_mb: i64) -> Result<(), AdminError> {
    check_not_negative("the quota", quota_mb)?;
    if domain.max_account_size_mb > 0 && (quota_mb == 0 || quota_mb > domain.max_account_size_mb) {
        return Err(AdminError::Invalid(format!(
            "domain {} allows quotas of at most {} MB",
            domain.name, domain.max_account_size_mb
        )));
    }
    if domain.max_size_mb > 0 {
        if quota_mb == 0 {
            return Err(AdminError::Invalid(format!(
                "domain {} has a size limit of {} MB: accounts need a quota",
                domain.name, domain.max_size_mb
            )));
        }
        if others_mb.saturating_add(quota_mb) > domain.max_size_mb {
            return Err(AdminError::LimitReached(format!(
                "domain {} has a size limit of {} MB and {} MB of it are given to other accounts",
                domain.name, domain.max_size_mb, others_mb
            )));
        }
    }
    Ok(())
}

/// The character of plus addressing: one punctuation character.
pub fn check_plus_char(c: &str) -> Result<(), AdminError> {
    if c.chars().count() != 1 || c.chars().any(|c| c.is_alphanumeric() || c == '@' || c.is_whitespace()) {
        return Err(AdminError::Invalid(
            "the plus addressing character must be one punctuation character, such as + - _ or %".into(),
        ));
    }
    Ok(())
}

/// Which limit of a domain an object counts against.
#[derive(Debug, Clone, Copy)]
pub enum Limit {
    Accounts,
    Aliases,
    Lists,
}

impl Limit {
    /// The bit of `domainlimitationsenabled` and the maximum, and the word for messages.
    fn of(self, domain: &Domain) -> (i64, i64, &'static str) {
        match self {
            Limit::Accounts => (1, domain.max_accounts, "accounts"),
            Limit::Aliases => (2, domain.max_aliases, "aliases"),
            Limit::Lists => (4, domain.max_lists, "lists"),
        }
    }
}

/// Fails when `domain` already has as many objects of the kind as it allows.
pub fn check_room(domain: &Domain, limit: Limit, existing: usize) -> Result<(), AdminError> {
    let (bit, max, what) = limit.of(domain);
    if domain.limitations_enabled & bit != 0 && i64::try_from(existing).unwrap_or(i64::MAX) >= max {
        return Err(AdminError::LimitReached(format!("domain {} allows at most {max} {what}", domain.name)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain() -> Domain {
        Domain::new("example.com")
    }

    #[test]
    fn quotas_follow_the_largest_account_size_and_the_domain_size() {
        let mut d = domain();
        assert!(check_quota(&d, 0, 0).is_ok());
        assert!(matches!(check_quota(&d, -1, 0), Err(AdminError::Invalid(_))));
        d.max_account_size_mb = 100;
        assert!(check_quota(&d, 100, 0).is_ok());
        assert!(matches!(check_quota(&d, 101, 0), Err(AdminError::Invalid(_))));
        assert!(matches!(check_quota(&d, 0, 0), Err(AdminError::Invalid(_))));
        d.max_size_mb = 150;
        assert!(check_quota(&d, 50, 100).is_ok());
        assert!(matches!(check_quota(&d, 51, 100), Err(AdminError::LimitReached(_))));
        assert!(matches!(check_quota(&d, 10, i64::MAX), Err(AdminError::LimitReached(_))));
    }

    #[test]
    fn limits_count_only_when_enabled() {
        let mut d = domain();
        d.max_accounts = 1;
        assert!(check_room(&d, Limit::Accounts, 5).is_ok());
        d.limitations_enabled = 1;
        assert!(check_room(&d, Limit::Accounts, 0).is_ok());
        assert!(matches!(check_room(&d, Limit::Accounts, 1), Err(AdminError::LimitReached(_))));
        assert!(check_room(&d, Limit::Aliases, 100).is_ok());
    }

    #[test]
    fn addresses_must_belong_to_their_domain() {
        let d = domain();
        assert!(address_in("john@EXAMPLE.com", &d).is_ok());
        assert!(matches!(address_in("john@other.test", &d), Err(AdminError::Invalid(_))));
        assert!(matches!(address_in("not an address", &d), Err(AdminError::Invalid(_))));
    }

    #[test]
    fn small_checks() {
        assert!(check_plus_char("+").is_ok());
        assert!(check_plus_char("a").is_err());
        assert!(check_plus_char("++").is_err());
        assert!(check_admin_level(2).is_ok());
        assert!(check_not_negative("x", i64::from(i32::MAX)).is_ok());
        assert!(check_not_negative("x", i64::from(i32::MAX) + 1).is_err());
        assert!(check_admin_level(3).is_err());
        assert!(check_length("x", "éé", 2).is_ok());
        assert!(check_length("x", "ééé", 2).is_err());
    }
}
