//! Accounts: a domain's list and adding one; an account's page (password, names, state, admin
//! level, quota and what it uses, auto-reply, forwarding, signature), which a user sees of
//! itself without state, level and quota; removal with what goes.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use altimail_admin::{AccountChanges, AdminError, NewAccount, Signature};
use altimail_store::repo::accounts::Account;

use super::domains::RemovePage;
use super::{Nav, render};
use crate::ui::auth::{Me, Posted};
use crate::ui::{WebAdmin, segment};

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    nav: Nav,
    domain: String,
    accounts: Vec<Account>,
}

pub(super) async fn list(State(ui): State<WebAdmin>, me: Me, Path(domain): Path<String>) -> Response {
    let page = ui.admin.list_accounts(&me.caller, Some(&domain)).await.map(|accounts| AccountsPage {
        nav: ui.nav(&me),
        domain,
        accounts,
    });
    render(&ui, &me, page)
}

pub(super) async fn create(
    State(ui): State<WebAdmin>,
    Path(domain): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let new = || -> Result<NewAccount, AdminError> {
        Ok(NewAccount {
            address: form.trimmed("address").unwrap_or_default(),
            password: form.filled("password"),
            quota_mb: form.number("quota_mb", "the quota")?.unwrap_or(0),
            active: form.flag("active").unwrap_or(true),
            admin_level: form.number("admin_level", "the admin level")?.unwrap_or(0),
        })
    };
    let back = format!("/admin/domains/{}/accounts", segment(&domain));
    let created = match new() {
        Ok(n) => ui.admin.create_account(&me.caller, &n).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(a) => ui.after(
            &me,
            &format!("/admin/accounts/{}", segment(&a.address)),
            Ok(format!("Account {} added.", a.address)),
        ),
        Err(e) => ui.after(&me, &back, Err(e)),
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    a: Account,
    domain: String,
    sig: Signature,
    /// The caller administers the account (not only itself).
    admin: bool,
    used: String,
    messages: i64,
    percent: i64,
    vacation_until: String,
}

/// A size for people: bytes, KB, MB or GB.
fn size(bytes: i64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KB", "MB", "GB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} bytes") } else { format!("{value:.1} {}", UNITS[unit]) }
}

async fn account_page(ui: &WebAdmin, me: &Me, address: &str) -> Result<AccountPage, AdminError> {
    let a = ui.admin.get_account(&me.caller, address).await?;
    let sig = ui.admin.account_signature(&me.caller, address).await?;
    let contents = ui.admin.account_contents(&me.caller, address).await?;
    let domain = altimail_core::address::split(&a.address).map(|(_, d)| d.to_owned()).unwrap_or_default();
    // Users see their own page without state, level and quota, which the service keeps from them.
    let admin = me.level >= 1;
    let percent = if a.max_size_mb > 0 {
        contents.bytes.saturating_mul(100) / a.max_size_mb.saturating_mul(1024 * 1024)
    } else {
        0
    };
    let vacation_until =
        if a.vacation_expires { a.vacation_expire_date.format("%Y-%m-%d").to_string() } else { String::new() };
    Ok(AccountPage {
        nav: ui.nav(me),
        used: size(contents.bytes),
        messages: contents.messages,
        percent,
        vacation_until,
        domain,
        sig,
        admin,
        a,
    })
}

pub(super) async fn show(State(ui): State<WebAdmin>, me: Me, Path(address): Path<String>) -> Response {
    let page = account_page(&ui, &me, &address).await;
    render(&ui, &me, page)
}

pub(super) async fn update(
    State(ui): State<WebAdmin>,
    Path(address): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let changes = || -> Result<AccountChanges, AdminError> {
        let vacation_until = match form.trimmed("vacation_until") {
            None => None,
            Some(s) if s.is_empty() => Some(None),
            Some(s) => Some(Some(
                chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                    .map_err(|_| AdminError::Invalid(format!("the auto-reply's last day: {s:?} is not a date")))?,
            )),
        };
        // Forwarding off is an empty forwarding address for the service.
        let forward_address = match form.flag("forward_on") {
            Some(false) => Some(String::new()),
            _ => form.trimmed("forward_address"),
        };
        Ok(AccountChanges {
            password: form.filled("password"),
            active: form.flag("active"),
            quota_mb: form.number("quota_mb", "the quota")?,
            admin_level: form.number("admin_level", "the admin level")?,
            forward_address,
            forward_keep_original: form.flag("forward_keep_original"),
            vacation_on: form.flag("vacation_on"),
            vacation_subject: form.text("vacation_subject"),
            vacation_message: form.text("vacation_message"),
            vacation_until,
            first_name: form.trimmed("first_name"),
            last_name: form.trimmed("last_name"),
            signature_enabled: form.flag("signature_enabled"),
            signature_plain: form.text("signature_plain"),
            signature_html: form.text("signature_html"),
        })
    };
    let result = match changes() {
        Ok(c) => {
            ui.admin.update_account(&me.caller, &address, &c).await.map(|a| format!("Account {} saved.", a.address))
        }
        Err(e) => Err(e),
    };
    ui.after(&me, &format!("/admin/accounts/{}", segment(&address)), result)
}

pub(super) async fn confirm_remove(State(ui): State<WebAdmin>, me: Me, Path(address): Path<String>) -> Response {
    let page = ui.admin.account_contents(&me.caller, &address).await.map(|c| RemovePage {
        nav: ui.nav(&me),
        what: format!("account {address}"),
        summary: format!(
            "Removing {address} removes its folders and {} message(s), {} bytes, with its folder in the data directory.",
            c.messages, c.bytes
        ),
        action: format!("/admin/accounts/{}/remove", segment(&address)),
        back: format!("/admin/accounts/{}", segment(&address)),
        needs_force: c.messages > 0,
        force_label: format!("Yes, remove its {} message(s) too", c.messages),
    });
    render(&ui, &me, page)
}

pub(super) async fn remove(
    State(ui): State<WebAdmin>,
    Path(address): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let force = form.0.contains_key("force");
    match ui.admin.delete_account(&me.caller, &address, force).await {
        Ok(r) => {
            let domain =
                altimail_core::address::split(&r.removed.address).map(|(_, d)| d.to_owned()).unwrap_or_default();
            let notice = format!("Account {} removed with {} message(s).", r.removed.address, r.contents.messages);
            ui.after(&me, &format!("/admin/domains/{}/accounts", segment(&domain)), Ok(notice))
        }
        Err(e) => ui.after(&me, &format!("/admin/accounts/{}/remove", segment(&address)), Err(e)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_for_people() {
        assert_eq!(super::size(0), "0 bytes");
        assert_eq!(super::size(1536), "1.5 KB");
        assert_eq!(super::size(5 * 1024 * 1024), "5.0 MB");
    }
}
