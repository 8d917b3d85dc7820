//! Aliases: a domain's list and adding one; an alias's target and state; removal.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use altimail_admin::{AliasChanges, NewAlias};
use altimail_store::repo::aliases::Alias;

use super::{Nav, render};
use crate::ui::auth::{Me, Posted};
use crate::ui::{WebAdmin, segment};

#[derive(Template)]
#[template(path = "aliases.html")]
struct AliasesPage {
    nav: Nav,
    domain: String,
    aliases: Vec<Alias>,
}

pub(super) async fn list(State(ui): State<WebAdmin>, me: Me, Path(domain): Path<String>) -> Response {
    let page = ui.admin.list_aliases(&me.caller, Some(&domain)).await.map(|aliases| AliasesPage {
        nav: ui.nav(&me),
        domain,
        aliases,
    });
    render(&ui, &me, page)
}

pub(super) async fn create(
    State(ui): State<WebAdmin>,
    Path(domain): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let new = NewAlias {
        name: form.trimmed("name").unwrap_or_default(),
        target: form.trimmed("target").unwrap_or_default(),
        active: form.flag("active").unwrap_or(true),
    };
    let result = ui.admin.create_alias(&me.caller, &new).await.map(|a| format!("Alias {} added.", a.name));
    ui.after(&me, &format!("/admin/domains/{}/aliases", segment(&domain)), result)
}

#[derive(Template)]
#[template(path = "alias.html")]
struct AliasPage {
    nav: Nav,
    domain: String,
    a: Alias,
}

fn domain_of(address: &str) -> String {
    altimail_core::address::split(address).map(|(_, d)| d.to_owned()).unwrap_or_default()
}

pub(super) async fn show(State(ui): State<WebAdmin>, me: Me, Path(name): Path<String>) -> Response {
    let page = ui.admin.get_alias(&me.caller, &name).await.map(|a| AliasPage {
        nav: ui.nav(&me),
        domain: domain_of(&a.name),
        a,
    });
    render(&ui, &me, page)
}

pub(super) async fn update(
    State(ui): State<WebAdmin>,
    Path(name): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let changes = AliasChanges { target: form.trimmed("target"), active: form.flag("active") };
    let result = ui.admin.update_alias(&me.caller, &name, &changes).await.map(|a| format!("Alias {} saved.", a.name));
    ui.after(&me, &format!("/admin/aliases/{}", segment(&name)), result)
}

pub(super) async fn remove(
    State(ui): State<WebAdmin>,
    Path(name): Path<String>,
    Posted { me, .. }: Posted,
) -> Response {
    match ui.admin.delete_alias(&me.caller, &name).await {
        Ok(a) => ui.after(
            &me,
            &format!("/admin/domains/{}/aliases", segment(&domain_of(&a.name))),
            Ok(format!("Alias {} removed.", a.name)),
        ),
        Err(e) => ui.after(&me, &format!("/admin/aliases/{}", segment(&name)), Err(e)),
    }
}
