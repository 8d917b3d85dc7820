//! The server's own pages: its status and the administrator password.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use altimail_admin::AdminError;

use super::{Nav, render};
use crate::ui::WebAdmin;
use crate::ui::auth::{Me, Posted};
use crate::ui::status::Snapshot;

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    nav: Nav,
    s: Snapshot,
}

fn servers_only(me: &Me, what: &str) -> Result<(), AdminError> {
    if me.is_server() { Ok(()) } else { Err(AdminError::Forbidden(format!("{} may not see {what}", me.caller.name()))) }
}

pub(super) async fn status(State(ui): State<WebAdmin>, me: Me) -> Response {
    let page = match servers_only(&me, "the server's status") {
        Ok(()) => Ok(StatusPage { s: ui.status.snapshot(&ui.admin, &me.caller).await, nav: ui.nav(&me) }),
        Err(e) => Err(e),
    };
    render(&ui, &me, page)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    nav: Nav,
}

pub(super) async fn password_form(State(ui): State<WebAdmin>, me: Me) -> Response {
    let page = servers_only(&me, "the administrator password").map(|()| PasswordPage { nav: ui.nav(&me) });
    render(&ui, &me, page)
}

pub(super) async fn set_password(State(ui): State<WebAdmin>, Posted { me, form }: Posted) -> Response {
    let new = form.text("password").unwrap_or_default();
    let result = if form.text("again").unwrap_or_default() != new {
        Err(AdminError::Invalid("the two passwords differ".into()))
    } else {
        ui.admin
            .set_administrator_password(&me.caller, &new)
            .await
            .map(|()| "The administrator password is set.".to_owned())
    };
    ui.after(&me, "/admin/password", result)
}
