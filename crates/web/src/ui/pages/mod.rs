//! The pages and the forms they post, one module per kind of object. A page is a GET that
//! renders a template; a form is a POST that calls the service once and sends the browser back
//! to a page with a one-shot message (the service's refusal, word for word, or what was done).

mod accounts;
mod aliases;
mod domains;
mod lists;
mod logon;
mod server;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use altimail_admin::AdminError;

use super::auth::Me;
use super::session::Flash;
use super::{WebAdmin, html, see};

/// The style sheet, vendored with the code.
const STYLE: &str = include_str!("../admin.css");

pub(super) fn routes() -> Router<WebAdmin> {
    Router::new()
        .route("/admin", get(|| async { see("/admin/") }))
        .route("/admin/", get(home))
        .route("/admin/admin.css", get(style))
        .route("/admin/logon", get(logon::form).post(logon::log_on))
        .route("/admin/logout", post(logon::log_out))
        .route("/admin/status", get(server::status))
        .route("/admin/password", get(server::password_form).post(server::set_password))
        .route("/admin/domains", get(domains::list).post(domains::create))
        .route("/admin/domains/{domain}", get(domains::show).post(domains::update))
        .route("/admin/domains/{domain}/remove", get(domains::confirm_remove).post(domains::remove))
        .route("/admin/domains/{domain}/names", post(domains::add_name))
        .route("/admin/domains/{domain}/names/{alias}/remove", post(domains::remove_name))
        .route("/admin/domains/{domain}/accounts", get(accounts::list).post(accounts::create))
        .route("/admin/accounts/{address}", get(accounts::show).post(accounts::update))
        .route("/admin/accounts/{address}/remove", get(accounts::confirm_remove).post(accounts::remove))
        .route("/admin/domains/{domain}/aliases", get(aliases::list).post(aliases::create))
        .route("/admin/aliases/{name}", get(aliases::show).post(aliases::update))
        .route("/admin/aliases/{name}/remove", post(aliases::remove))
        .route("/admin/domains/{domain}/lists", get(lists::list).post(lists::create))
        .route("/admin/lists/{address}", get(lists::show).post(lists::update))
        .route("/admin/lists/{address}/members", post(lists::add_member))
        .route("/admin/lists/{address}/members/remove", post(lists::remove_member))
        .route("/admin/lists/{address}/remove", post(lists::remove))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
}

/// What the frame of every page shows: who is logged on, the menu, the one-shot message.
pub(crate) struct Nav {
    pub user: String,
    pub csrf: String,
    pub server: bool,
    /// A domain administrator's domain.
    pub domain: Option<String>,
    /// The account logged on.
    pub own: Option<String>,
    pub flash: Option<Flash>,
}

impl WebAdmin {
    pub(crate) fn nav(&self, me: &Me) -> Nav {
        Nav {
            user: me.caller.name().to_owned(),
            csrf: me.csrf.clone(),
            server: me.is_server(),
            domain: if me.level == 1 { me.domain.clone() } else { None },
            own: me.address.clone(),
            flash: self.sessions.take_flash(&me.session),
        }
    }

    /// A page for a refusal of the service (or the logon form, for a caller no longer known).
    pub(crate) fn failure(&self, me: &Me, e: AdminError) -> Response {
        if matches!(e, AdminError::Unauthenticated(_)) {
            self.sessions.close(&me.session);
            return see("/admin/logon");
        }
        let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let title = match status {
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::NOT_FOUND => "Not found",
            _ => "Refused",
        };
        let page = ErrorPage { nav: self.nav(me), title, message: super::error_text(&e) };
        html(status, page.render())
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    nav: Nav,
    title: &'static str,
    message: String,
}

/// Renders `page` (200), or the refusal of the call that was to fill it.
pub(crate) fn render<T: Template>(ui: &WebAdmin, me: &Me, page: Result<T, AdminError>) -> Response {
    match page {
        Ok(p) => html(StatusCode::OK, p.render()),
        Err(e) => ui.failure(me, e),
    }
}

async fn home(me: Me) -> Response {
    see(&me.home())
}

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], STYLE)
        .into_response()
}
