//! IP ranges (`hm_securityranges`): what clients of an address range may do, whether auto-ban
//! spares them (the trusted flag, kept in the setting `altimailtrustedranges`), and the ranges
//! auto-ban made (`Auto-ban: <user>`). Server administrators only.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use altimail_core::codes::range as bits;
use altimail_store::db::never;
use altimail_store::repo::ranges::{self, Range, Trusted};
use altimail_store::repo::settings;

use crate::{Admin, AdminError, Caller, audit};

/// A range with the names of its option bits and whether auto-ban spares its clients.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RangeView {
    #[serde(flatten)]
    pub range: Range,
    /// The names of the option bits set (see `GET /api/v1/ip-ranges/options`).
    pub allows: Vec<&'static str>,
    /// Whether auto-ban spares the range's clients.
    pub trusted: bool,
    /// Whether auto-ban made the range (a ban after failed logons).
    pub auto_ban: bool,
}

impl RangeView {
    fn new(range: Range, trusted: &Trusted) -> Self {
        let allows = bits::names(range.options);
        let auto_ban = range.is_auto_ban();
        let trusted = !auto_ban && trusted.has_name(&range.name);
        RangeView { range, allows, trusted, auto_ban }
    }
}

/// A range to add.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRange {
    /// Unique; names starting with "Auto-ban:" are auto-ban's.
    pub name: String,
    /// Lowest address (IPv4 or IPv6).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub lower: IpAddr,
    /// Highest address (default: the lowest, a single address).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub upper: Option<IpAddr>,
    /// Higher wins where ranges overlap (default 20).
    #[serde(default = "default_priority")]
    pub priority: i64,
    /// Option names to switch on (`smtp`, `relay-local-to-remote`, ...).
    #[serde(default)]
    pub allow: Vec<String>,
    /// The option bit mask as a number (instead of `allow`).
    #[serde(default)]
    pub options: Option<i64>,
    /// When the range is deleted (server local time, `YYYY-MM-DD HH:MM`); none = never.
    #[serde(default)]
    pub expires: Option<String>,
    /// Whether auto-ban spares the range's clients.
    #[serde(default)]
    pub trusted: bool,
}

fn default_priority() -> i64 {
    20
}

/// Changes to a range; fields left out stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RangeChanges {
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub lower: Option<IpAddr>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub upper: Option<IpAddr>,
    pub priority: Option<i64>,
    /// The whole option bit mask (applied before `allow` and `deny`).
    pub options: Option<i64>,
    /// Option names to switch on.
    pub allow: Vec<String>,
    /// Option names to switch off.
    pub deny: Vec<String>,
    /// Expiry (`YYYY-MM-DD HH:MM`), or `never`.
    pub expires: Option<String>,
    pub trusted: Option<bool>,
}

/// One option of IP ranges: its name and bit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct RangeOption {
    pub name: &'static str,
    pub bit: i64,
}

/// The option names and bits of IP ranges.
pub fn range_options() -> Vec<RangeOption> {
    bits::NAMES.iter().map(|&(name, bit)| RangeOption { name, bit }).collect()
}

fn mask(names: &[String]) -> Result<i64, AdminError> {
    let mut m = 0;
    for n in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
        match bits::bit(n) {
            Some(b) => m |= b,
            None => return Err(AdminError::Invalid(format!("unknown IP range option {n:?}"))),
        }
    }
    Ok(m)
}

fn check_options(options: i64) -> Result<(), AdminError> {
    let all = bits::NAMES.iter().fold(0, |m, (_, b)| m | b);
    if options < 0 || options & !all != 0 {
        return Err(AdminError::Invalid(format!("IP range options {options}: unknown bits")));
    }
    Ok(())
}

fn expiry(s: &str) -> Result<Option<chrono::NaiveDateTime>, AdminError> {
    if s.eq_ignore_ascii_case("never") || s.is_empty() {
        return Ok(None);
    }
    altimail_store::db::parse_time(s)
        .map(Some)
        .ok_or_else(|| AdminError::Invalid(format!("{s:?}: expected YYYY-MM-DD HH:MM or never")))
}

impl Admin {
    /// The current value of `altimailtrustedranges`, parsed.
    pub async fn trusted_ranges(&self) -> Result<Trusted, AdminError> {
        let value = match settings::get(&self.store.db, ranges::TRUSTED_SETTING).await? {
            Some(s) => s.string,
            None => ranges::DEFAULT_TRUSTED.to_owned(),
        };
        Ok(Trusted::parse(&value))
    }

    async fn set_trusted(&self, name: &str, on: bool) -> Result<(), AdminError> {
        if on && name.contains(',') {
            return Err(AdminError::Invalid(
                "a range whose name contains a comma cannot be trusted (altimailtrustedranges separates names with commas)"
                    .into(),
            ));
        }
        if on && name.starts_with(ranges::AUTO_BAN_PREFIX) {
            return Err(AdminError::Invalid("an auto-ban range cannot be trusted".into()));
        }
        let value = self.trusted_ranges().await?.with_name(name, on);
        settings::set_string(&self.store.db, ranges::TRUSTED_SETTING, &value).await?;
        Ok(())
    }

    /// Every range, highest priority first.
    pub async fn list_ranges(&self, caller: &Caller) -> Result<Vec<RangeView>, AdminError> {
        self.require_server(caller, "ip_range.list", "IP ranges").await?;
        let trusted = self.trusted_ranges().await?;
        Ok(ranges::list(&self.store.db).await?.into_iter().map(|r| RangeView::new(r, &trusted)).collect())
    }

    pub async fn get_range(&self, caller: &Caller, name: &str) -> Result<RangeView, AdminError> {
        self.require_server(caller, "ip_range.read", name).await?;
        let range = ranges::require(&self.store.db, name).await?;
        Ok(RangeView::new(range, &self.trusted_ranges().await?))
    }

    pub async fn create_range(&self, caller: &Caller, new: &NewRange) -> Result<RangeView, AdminError> {
        self.require_server(caller, "ip_range.create", &new.name).await?;
        let options = match new.options {
            Some(o) => o,
            None => mask(&new.allow)?,
        };
        check_options(options)?;
        crate::rules::check_int32("the priority", new.priority)?;
        let when = new.expires.as_deref().map(expiry).transpose()?.flatten();
        let r = Range {
            id: 0,
            name: new.name.trim().to_owned(),
            priority: new.priority,
            lower: new.lower,
            upper: new.upper.unwrap_or(new.lower),
            options,
            expires: when.is_some(),
            expires_time: when.unwrap_or_else(never),
        };
        if new.trusted && (r.name.contains(',') || r.is_auto_ban()) {
            return Err(AdminError::Invalid(format!("the range {} cannot be trusted", r.name)));
        }
        let r = ranges::create(&self.store.db, &r).await?;
        if new.trusted {
            self.set_trusted(&r.name, true).await?;
        }
        audit::change(caller, "ip_range.create", &r.name);
        Ok(RangeView::new(r, &self.trusted_ranges().await?))
    }

    pub async fn update_range(&self, caller: &Caller, name: &str, c: &RangeChanges) -> Result<RangeView, AdminError> {
        self.require_server(caller, "ip_range.update", name).await?;
        let mut r = ranges::require(&self.store.db, name).await?;
        if let Some(v) = c.lower {
            r.lower = v;
        }
        if let Some(v) = c.upper {
            r.upper = v;
        }
        if let Some(v) = c.priority {
            r.priority = v;
        }
        if let Some(o) = c.options {
            r.options = o;
        }
        r.options |= mask(&c.allow)?;
        r.options &= !mask(&c.deny)?;
        check_options(r.options)?;
        crate::rules::check_int32("the priority", r.priority)?;
        if let Some(e) = &c.expires {
            let when = expiry(e)?;
            r.expires = when.is_some();
            r.expires_time = when.unwrap_or_else(never);
        }
        if c.trusted == Some(true) && (r.name.contains(',') || r.is_auto_ban()) {
            return Err(AdminError::Invalid(format!("the range {} cannot be trusted", r.name)));
        }
        ranges::update(&self.store.db, &r).await?;
        if let Some(on) = c.trusted {
            self.set_trusted(&r.name, on).await?;
        }
        audit::change(caller, "ip_range.update", &r.name);
        Ok(RangeView::new(r, &self.trusted_ranges().await?))
    }

    /// Removes a range (for an auto-ban range: lifts the ban) and its trusted mark.
    pub async fn delete_range(&self, caller: &Caller, name: &str) -> Result<RangeView, AdminError> {
        self.require_server(caller, "ip_range.delete", name).await?;
        let r = ranges::require(&self.store.db, name).await?;
        ranges::delete(&self.store.db, r.id).await?;
        let trusted = self.trusted_ranges().await?;
        if trusted.has_name(&r.name) {
            settings::set_string(&self.store.db, ranges::TRUSTED_SETTING, &trusted.with_name(&r.name, false)).await?;
        }
        audit::change(caller, "ip_range.delete", &r.name);
        Ok(RangeView::new(r, &trusted))
    }
}
