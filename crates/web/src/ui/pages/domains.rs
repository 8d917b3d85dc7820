//! Domains: the list, adding, the domain's settings and limits, its other names (domain
//! aliases), and removal, which first shows what goes with the domain and removes a domain
//! with accounts only when that is ticked (the command line's `--force`).

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use altimail_admin::{AdminError, DomainChanges, NewDomain};
use altimail_store::repo::domains::Domain;

use super::{Nav, render};
use crate::ui::auth::{Me, Posted};
use crate::ui::{WebAdmin, segment};

#[derive(Template)]
#[template(path = "domains.html")]
struct DomainsPage {
    nav: Nav,
    domains: Vec<Domain>,
}

pub(super) async fn list(State(ui): State<WebAdmin>, me: Me) -> Response {
    let page = ui.admin.list_domains(&me.caller).await.map(|domains| DomainsPage { nav: ui.nav(&me), domains });
    render(&ui, &me, page)
}

pub(super) async fn create(State(ui): State<WebAdmin>, Posted { me, form }: Posted) -> Response {
    let new = NewDomain { name: form.trimmed("name").unwrap_or_default(), active: form.flag("active").unwrap_or(true) };
    match ui.admin.create_domain(&me.caller, &new).await {
        Ok(d) => {
            ui.after(&me, &format!("/admin/domains/{}", segment(&d.name)), Ok(format!("Domain {} added.", d.name)))
        }
        Err(e) => ui.after(&me, "/admin/domains", Err(e)),
    }
}

#[derive(Template)]
#[template(path = "domain.html")]
struct DomainPage {
    nav: Nav,
    d: Domain,
    aliases: Vec<String>,
    greylisting: bool,
    dkim_sign: bool,
}

pub(super) async fn show(State(ui): State<WebAdmin>, me: Me, Path(name): Path<String>) -> Response {
    let page = ui.admin.get_domain(&me.caller, &name).await.map(|v| DomainPage {
        nav: ui.nav(&me),
        greylisting: v.domain.antispam_options & 1 != 0,
        dkim_sign: v.domain.antispam_options & 2 != 0,
        d: v.domain,
        aliases: v.aliases,
    });
    render(&ui, &me, page)
}

pub(super) async fn update(
    State(ui): State<WebAdmin>,
    Path(name): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let changes = || -> Result<DomainChanges, AdminError> {
        Ok(DomainChanges {
            active: form.flag("active"),
            catch_all: form.trimmed("catch_all"),
            max_size_mb: form.number("max_size_mb", "the domain size")?,
            max_message_size_kb: form.number("max_message_size_kb", "the largest message size")?,
            max_account_size_mb: form.number("max_account_size_mb", "the largest account size")?,
            plus_addressing: form.flag("plus_addressing"),
            plus_addressing_char: form.text("plus_addressing_char"),
            max_accounts: form.number("max_accounts", "the account limit")?,
            max_aliases: form.number("max_aliases", "the alias limit")?,
            max_lists: form.number("max_lists", "the list limit")?,
            dkim_selector: form.trimmed("dkim_selector"),
            dkim_private_key_file: form.trimmed("dkim_private_key_file"),
            dkim_sign: form.flag("dkim_sign"),
            greylisting: form.flag("greylisting"),
        })
    };
    let result = match changes() {
        Ok(c) => ui.admin.update_domain(&me.caller, &name, &c).await.map(|d| format!("Domain {} saved.", d.name)),
        Err(e) => Err(e),
    };
    ui.after(&me, &format!("/admin/domains/{}", segment(&name)), result)
}

pub(super) async fn add_name(
    State(ui): State<WebAdmin>,
    Path(name): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let alias = form.trimmed("alias").unwrap_or_default();
    let result = ui
        .admin
        .add_domain_alias(&me.caller, &name, &alias)
        .await
        .map(|a| format!("{} is now another name of {name}.", a.alias));
    ui.after(&me, &format!("/admin/domains/{}", segment(&name)), result)
}

pub(super) async fn remove_name(
    State(ui): State<WebAdmin>,
    Path((name, alias)): Path<(String, String)>,
    Posted { me, .. }: Posted,
) -> Response {
    let result =
        ui.admin.remove_domain_alias(&me.caller, &alias).await.map(|a| format!("Domain alias {} removed.", a.alias));
    ui.after(&me, &format!("/admin/domains/{}", segment(&name)), result)
}

/// The confirmation page of a removal: what goes, and the `force` box when it is needed.
#[derive(Template)]
#[template(path = "remove.html")]
pub(super) struct RemovePage {
    pub nav: Nav,
    pub what: String,
    pub summary: String,
    pub action: String,
    pub back: String,
    pub needs_force: bool,
    pub force_label: String,
}

pub(super) async fn confirm_remove(State(ui): State<WebAdmin>, me: Me, Path(name): Path<String>) -> Response {
    let page = ui.admin.domain_contents(&me.caller, &name).await.map(|c| RemovePage {
        nav: ui.nav(&me),
        what: format!("domain {name}"),
        summary: format!(
            "Removing {name} removes its domain aliases, aliases and distribution lists, and {} account(s) holding {} message(s), {} bytes, with their folders in the data directory.",
            c.accounts, c.messages, c.bytes
        ),
        action: format!("/admin/domains/{}/remove", segment(&name)),
        back: format!("/admin/domains/{}", segment(&name)),
        needs_force: c.accounts > 0,
        force_label: format!("Yes, remove the {} account(s) and their mail too", c.accounts),
    });
    render(&ui, &me, page)
}

pub(super) async fn remove(
    State(ui): State<WebAdmin>,
    Path(name): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let force = form.0.contains_key("force");
    match ui.admin.delete_domain(&me.caller, &name, force).await {
        Ok(r) => ui.after(
            &me,
            "/admin/domains",
            Ok(format!(
                "Domain {} removed with {} account(s), {} message(s).",
                r.removed.name, r.contents.accounts, r.contents.messages
            )),
        ),
        Err(e) => ui.after(&me, &format!("/admin/domains/{}/remove", segment(&name)), Err(e)),
    }
}
