//! Who is asking: the session behind a page request ([`Me`]), and for forms the session with
//! its CSRF token checked ([`Posted`]). Without a live session a page sends the browser to the
//! logon form; a form without the session's token is refused.

use std::collections::HashMap;

use axum::extract::{Form, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use altimail_admin::{AdminError, Caller, Identity};

use super::forms::Fields;
use super::session::{self, Current, Flash, SESSION_COOKIE};
use super::{Peer, WebAdmin, see};

/// The caller of a request, with what the pages need to know about it.
pub(crate) struct Me {
    pub caller: Caller,
    pub session: String,
    pub csrf: String,
    /// 2 for `Administrator` and server administrators, 1 a domain's, 0 a user.
    pub level: i64,
    /// The account's address and domain (none for `Administrator`).
    pub address: Option<String>,
    pub domain: Option<String>,
}

impl Me {
    pub(crate) fn is_server(&self) -> bool {
        self.level >= 2
    }

    /// The page a caller starts on: the status for server administrators, their domain for
    /// domain administrators, their own account for users.
    pub(crate) fn home(&self) -> String {
        match (self.level, &self.domain, &self.address) {
            (2.., _, _) => "/admin/status".to_owned(),
            (1, Some(d), _) => format!("/admin/domains/{}", super::segment(d)),
            (_, _, Some(a)) => format!("/admin/accounts/{}", super::segment(a)),
            _ => "/admin/logon".to_owned(),
        }
    }
}

/// Whether the browser reached us over TLS (through a proxy that says so).
pub(crate) fn is_secure(parts: &Parts) -> bool {
    parts
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

pub(crate) fn cookie_value<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|h| session::cookie(h, name))
}

/// The origin the audit log names for the browser's requests.
pub(crate) fn origin(parts: &Parts) -> String {
    match parts.extensions.get::<Peer>() {
        Some(Peer(p)) => format!("web {p}"),
        None => "web".to_owned(),
    }
}

/// The caller's level, domain and address, read again on every request (as the service does).
async fn resolve(ui: &WebAdmin, current: Current) -> Result<Me, AdminError> {
    let Current { id, caller, csrf } = current;
    let (level, address, domain) = match &caller.identity {
        Identity::Administrator => (2, None, None),
        Identity::Account { address, .. } => {
            let a = ui.admin.get_account(&caller, address).await?;
            let domain = altimail_core::address::split(&a.address).map(|(_, d)| d.to_owned());
            (a.admin_level, Some(a.address), domain)
        }
    };
    Ok(Me { caller, session: id, csrf, level, address, domain })
}

/// Refusals before the handler runs.
pub(crate) enum Rejection {
    /// No live session: to the logon form.
    LogOn,
    /// A form without the session's CSRF token.
    Forged,
    /// The body is not a form.
    BadForm(String),
    Internal(String),
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::LogOn => see("/admin/logon"),
            Rejection::Forged => (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "refused: the form is out of date or was not sent from this administration (CSRF token); reload the page\n",
            )
                .into_response(),
            Rejection::BadForm(why) => (StatusCode::BAD_REQUEST, format!("{why}\n")).into_response(),
            Rejection::Internal(why) => (StatusCode::INTERNAL_SERVER_ERROR, format!("{why}\n")).into_response(),
        }
    }
}

async fn me_from_parts(parts: &Parts, ui: &WebAdmin) -> Result<Me, Rejection> {
    let id = cookie_value(parts, SESSION_COOKIE).ok_or(Rejection::LogOn)?;
    let mut current = ui.sessions.current(id).ok_or(Rejection::LogOn)?;
    current.caller.origin = origin(parts);
    match resolve(ui, current).await {
        Ok(me) => Ok(me),
        Err(AdminError::Unauthenticated(_) | AdminError::Forbidden(_) | AdminError::NotFound(_)) => {
            // Disabled, removed or changed beyond recognition: the session ends.
            ui.sessions.close(id);
            Err(Rejection::LogOn)
        }
        Err(e) => Err(Rejection::Internal(super::error_text(&e))),
    }
}

impl FromRequestParts<WebAdmin> for Me {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, ui: &WebAdmin) -> Result<Self, Self::Rejection> {
        me_from_parts(parts, ui).await
    }
}

/// A form from a logged-on browser, its CSRF token checked.
pub(crate) struct Posted {
    pub me: Me,
    pub form: Fields,
}

impl FromRequest<WebAdmin> for Posted {
    type Rejection = Rejection;

    async fn from_request(req: Request, ui: &WebAdmin) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let me = me_from_parts(&parts, ui).await;
        let req = Request::from_parts(parts, body);
        let Form(map) = Form::<HashMap<String, String>>::from_request(req, ui)
            .await
            .map_err(|e| Rejection::BadForm(e.body_text()))?;
        let form = Fields(map);
        let me = me?;
        match form.0.get("csrf") {
            Some(token) if session::same_token(token, &me.csrf) => Ok(Posted { me, form }),
            _ => {
                tracing::warn!(target: "audit", who = %me.caller.name(), from = %me.caller.origin, "form refused: no valid CSRF token");
                Err(Rejection::Forged)
            }
        }
    }
}

impl WebAdmin {
    /// After a form: back to `to` with `flash`; a caller no longer known is logged out.
    pub(crate) fn after(&self, me: &Me, to: &str, result: Result<String, AdminError>) -> Response {
        match result {
            Ok(notice) => {
                self.sessions.flash(&me.session, Flash::notice(notice));
                see(to)
            }
            Err(AdminError::Unauthenticated(_)) => {
                self.sessions.close(&me.session);
                see("/admin/logon")
            }
            Err(e) => {
                self.sessions.flash(&me.session, Flash::error(super::error_text(&e)));
                see(to)
            }
        }
    }
}
