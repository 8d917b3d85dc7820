//! The web administration: server-rendered pages under `/admin/` on the administration API's
//! listener (`[api] listen`), for what hMailServer Administrator does with domains, accounts,
//! aliases and distribution lists, and a status page.
//!
//! Every change goes through the administration service ([`altimail_admin::Admin`]) with the
//! caller of the browser's session, so the pages have the command line's rules and each admin
//! level's rights: 2 (and `Administrator`) everything, 1 its own domain, 0 only itself.
//!
//! * [`WebAdmin`] holds the service, the [`Sessions`] and the [`ServerStatus`];
//!   [`WebAdmin::router`] are its routes, [`serve`] serves them beside `/api/v1`.
//! * Logon as `Administrator` (the administrator password) or as an account; the session is a
//!   cookie (HttpOnly, SameSite=Strict, Secure when the browser came over TLS through a proxy
//!   that says so with `X-Forwarded-Proto: https`); every form carries a CSRF token; failed
//!   logons count towards the auto-ban of the client's address as the mail protocols' do.
//! * No script: pages are HTML forms and one vendored style sheet (`admin.css`).

mod auth;
mod forms;
mod pages;
mod session;
mod status;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tokio::net::TcpListener;

use altimail_admin::{Admin, AdminError};
use altimail_net::Policy;

use crate::api::Api;

pub use session::{Flash, IDLE_LIMIT, SESSION_COOKIE, SESSION_LIFETIME, Sessions};
pub use status::ServerStatus;

/// The largest form the pages take (a signature or an auto-reply text is the largest field).
pub const MAX_FORM: usize = 256 * 1024;

/// The web administration's state, shared by its requests.
#[derive(Clone)]
pub struct WebAdmin {
    pub admin: Admin,
    pub sessions: Sessions,
    pub status: ServerStatus,
    /// The mail listeners' policy: failed logons are counted by its auto-ban.
    pub policy: Option<Policy>,
}

impl WebAdmin {
    pub fn new(admin: Admin, status: ServerStatus, policy: Option<Policy>) -> WebAdmin {
        WebAdmin { admin, sessions: Sessions::default(), status, policy }
    }

    /// The routes of `/admin/`, for the connection from `peer`.
    pub fn router(&self, peer: SocketAddr) -> Router {
        pages::routes()
            .layer(DefaultBodyLimit::max(MAX_FORM))
            .layer(axum::Extension(Peer(peer)))
            .with_state(self.clone())
    }
}

/// Serves the REST API and the web administration on `listener` until `stop` turns true.
pub async fn serve(listener: TcpListener, api: Api, ui: WebAdmin, stop: tokio::sync::watch::Receiver<bool>) {
    crate::api::serve_routes(listener, move |peer| api.router(peer).merge(ui.router(peer)), stop).await;
}

/// The browser's address.
#[derive(Clone, Copy)]
pub(crate) struct Peer(pub(crate) SocketAddr);

/// An HTML page with the headers every page has: not cached, not framed, no script.
pub(crate) fn html(status: StatusCode, body: Result<String, askama::Error>) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("web administration: rendering a page: {e}");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error; see the server's log\n").into_response();
        }
    };
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    r
}

/// A redirect after a form (303, so that the browser asks with GET).
pub(crate) fn see(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// The text a refusal shows: the service's own words, but not the database's.
pub(crate) fn error_text(e: &AdminError) -> String {
    match e {
        AdminError::Store(inner) => {
            tracing::error!("web administration: {inner}");
            "internal error; see the server's log".to_owned()
        }
        other => other.to_string(),
    }
}

/// A path segment with what a URL cannot hold as it is percent-encoded.
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~@+!$'()*,;=:".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_keep_addresses_and_encode_the_rest() {
        assert_eq!(super::segment("john.doe+x@example.com"), "john.doe+x@example.com");
        assert_eq!(super::segment("a/b c?#%"), "a%2Fb%20c%3F%23%25");
        assert_eq!(super::segment("é"), "%C3%A9");
    }
}
