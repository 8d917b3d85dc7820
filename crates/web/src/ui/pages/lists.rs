//! Distribution lists: a domain's lists and adding one; a list's settings and members; removal.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use altimail_admin::{AdminError, ListChanges, ListSummary, ListView, NewList};
use altimail_core::codes::ListMode;

use super::{Nav, render};
use crate::ui::auth::{Me, Posted};
use crate::ui::forms::Fields;
use crate::ui::{WebAdmin, segment};

/// The modes as the forms offer them: (hMailServer's code, what it means).
const MODES: [(i64, &str); 4] =
    [(0, "Anyone (public)"), (1, "Members only"), (2, "One address (announcements)"), (3, "Accounts of the domain")];

fn mode_name(mode: ListMode) -> &'static str {
    MODES.iter().find(|(code, _)| *code == mode.code()).map_or("?", |(_, name)| name)
}

fn mode(form: &Fields) -> Result<Option<ListMode>, AdminError> {
    match form.number("mode", "who may send")? {
        None => Ok(None),
        Some(code) => ListMode::from_code(code)
            .map(Some)
            .ok_or_else(|| AdminError::Invalid(format!("who may send: no such mode {code}"))),
    }
}

fn domain_of(address: &str) -> String {
    altimail_core::address::split(address).map(|(_, d)| d.to_owned()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "lists.html")]
struct ListsPage {
    nav: Nav,
    domain: String,
    lists: Vec<(ListSummary, &'static str)>,
    modes: [(i64, &'static str); 4],
}

pub(super) async fn list(State(ui): State<WebAdmin>, me: Me, Path(domain): Path<String>) -> Response {
    let page = ui.admin.list_lists(&me.caller, Some(&domain)).await.map(|all| ListsPage {
        nav: ui.nav(&me),
        domain,
        lists: all
            .into_iter()
            .map(|l| {
                let m = mode_name(l.list.mode);
                (l, m)
            })
            .collect(),
        modes: MODES,
    });
    render(&ui, &me, page)
}

pub(super) async fn create(
    State(ui): State<WebAdmin>,
    Path(domain): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let result = match mode(&form) {
        Ok(m) => {
            let new = NewList {
                address: form.trimmed("address").unwrap_or_default(),
                mode: m.unwrap_or(ListMode::Public),
                require_auth: form.flag("require_auth").unwrap_or(false),
                require_address: form.trimmed("require_address").unwrap_or_default(),
                active: form.flag("active").unwrap_or(true),
            };
            ui.admin.create_list(&me.caller, &new).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(l) => {
            ui.after(&me, &format!("/admin/lists/{}", segment(&l.address)), Ok(format!("List {} added.", l.address)))
        }
        Err(e) => ui.after(&me, &format!("/admin/domains/{}/lists", segment(&domain)), Err(e)),
    }
}

#[derive(Template)]
#[template(path = "list.html")]
struct ListPage {
    nav: Nav,
    domain: String,
    l: ListView,
    mode: i64,
    modes: [(i64, &'static str); 4],
}

pub(super) async fn show(State(ui): State<WebAdmin>, me: Me, Path(address): Path<String>) -> Response {
    let page = ui.admin.get_list(&me.caller, &address).await.map(|l| ListPage {
        nav: ui.nav(&me),
        domain: domain_of(&l.list.address),
        mode: l.list.mode.code(),
        l,
        modes: MODES,
    });
    render(&ui, &me, page)
}

pub(super) async fn update(
    State(ui): State<WebAdmin>,
    Path(address): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let result = match mode(&form) {
        Ok(m) => {
            let changes = ListChanges {
                mode: m,
                require_auth: form.flag("require_auth"),
                require_address: form.trimmed("require_address"),
                active: form.flag("active"),
            };
            ui.admin.update_list(&me.caller, &address, &changes).await.map(|l| format!("List {} saved.", l.address))
        }
        Err(e) => Err(e),
    };
    ui.after(&me, &format!("/admin/lists/{}", segment(&address)), result)
}

pub(super) async fn add_member(
    State(ui): State<WebAdmin>,
    Path(address): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let member = form.trimmed("address").unwrap_or_default();
    let result = ui.admin.add_member(&me.caller, &address, &member).await.map(|m| format!("{m} added."));
    ui.after(&me, &format!("/admin/lists/{}", segment(&address)), result)
}

pub(super) async fn remove_member(
    State(ui): State<WebAdmin>,
    Path(address): Path<String>,
    Posted { me, form }: Posted,
) -> Response {
    let member = form.trimmed("address").unwrap_or_default();
    let result = ui.admin.remove_member(&me.caller, &address, &member).await.map(|()| format!("{member} removed."));
    ui.after(&me, &format!("/admin/lists/{}", segment(&address)), result)
}

pub(super) async fn remove(
    State(ui): State<WebAdmin>,
    Path(address): Path<String>,
    Posted { me, .. }: Posted,
) -> Response {
    match ui.admin.delete_list(&me.caller, &address).await {
        Ok(l) => ui.after(
            &me,
            &format!("/admin/domains/{}/lists", segment(&domain_of(&l.address))),
            Ok(format!("List {} removed.", l.address)),
        ),
        Err(e) => ui.after(&me, &format!("/admin/lists/{}", segment(&address)), Err(e)),
    }
}
