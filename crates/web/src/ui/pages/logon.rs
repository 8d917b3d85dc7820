//! Logon and logout. The logon form has no session yet, so its CSRF token is checked against a
//! cookie of its own (double submit). A failed logon counts towards the auto-ban of the
//! browser's address, as a failed SMTP, POP3 or IMAP logon does; a banned address is refused.

use std::collections::HashMap;
use std::time::Duration;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{AppendHeaders, IntoResponse, Response};

use altimail_admin::AdminError;
use altimail_core::codes::Protocol;
use altimail_net::{Admission, Refusal};

use crate::ui::auth::{self, Posted, Rejection, cookie_value, is_secure};
use crate::ui::session::{LOGON_COOKIE, SESSION_COOKIE, SESSION_LIFETIME, random_token, same_token, set_cookie};
use crate::ui::{Peer, WebAdmin, html, see};

/// How long the logon form may stay open before it is sent.
const LOGON_FORM_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Template)]
#[template(path = "logon.html")]
struct LogonPage {
    csrf: String,
    user: String,
    error: Option<String>,
}

/// The logon form, with a new CSRF token in its cookie.
fn logon_page(status: StatusCode, secure: bool, user: String, error: Option<String>) -> Response {
    let csrf = random_token();
    let cookie = set_cookie(LOGON_COOKIE, &csrf, Some(LOGON_FORM_LIFETIME), secure);
    let page = html(status, LogonPage { csrf, user, error }.render());
    (AppendHeaders([(header::SET_COOKIE, cookie)]), page).into_response()
}

pub(super) async fn form(State(ui): State<WebAdmin>, parts: Parts) -> Response {
    if let Some(id) = cookie_value(&parts, SESSION_COOKIE)
        && ui.sessions.current(id).is_some()
    {
        return see("/admin/");
    }
    logon_page(StatusCode::OK, is_secure(&parts), String::new(), None)
}

pub(super) async fn log_on(
    State(ui): State<WebAdmin>,
    axum::Extension(Peer(peer)): axum::Extension<Peer>,
    parts: Parts,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let secure = is_secure(&parts);
    let expected = cookie_value(&parts, LOGON_COOKIE).unwrap_or("");
    match form.get("csrf") {
        Some(token) if !expected.is_empty() && same_token(token, expected) => {}
        _ => return Rejection::Forged.into_response(),
    }
    let user = form.get("user").map(|u| u.trim().to_owned()).unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    if let Some(policy) = &ui.policy
        && let Admission::Refused(Refusal::Banned { .. }) = policy.admit(Protocol::Http, peer.ip()).await
    {
        tracing::warn!(target: "audit", who = %user, from = %peer, "administration logon refused: the address is banned");
        let why = "too many failed logons from your address: try again later".to_owned();
        return logon_page(StatusCode::FORBIDDEN, secure, user, Some(why));
    }
    let origin = format!("web {peer}");
    match ui.admin.authenticate(&user, &password, &origin).await {
        Ok(caller) => {
            let id = ui.sessions.open(caller);
            let cookies = [
                (header::SET_COOKIE, set_cookie(SESSION_COOKIE, &id, Some(SESSION_LIFETIME), secure)),
                (header::SET_COOKIE, set_cookie(LOGON_COOKIE, "", Some(Duration::ZERO), secure)),
            ];
            (AppendHeaders(cookies), see("/admin/")).into_response()
        }
        Err(AdminError::Unauthenticated(why)) => {
            if let Some(policy) = &ui.policy {
                policy.logon_failed(peer.ip(), &user).await;
            }
            logon_page(StatusCode::UNAUTHORIZED, secure, user, Some(why))
        }
        Err(e) => logon_page(StatusCode::INTERNAL_SERVER_ERROR, secure, user, Some(crate::ui::error_text(&e))),
    }
}

pub(super) async fn log_out(State(ui): State<WebAdmin>, parts: Parts, posted: Result<Posted, Rejection>) -> Response {
    let posted = match posted {
        Ok(p) => p,
        Err(r) => return r.into_response(),
    };
    ui.sessions.close(&posted.me.session);
    tracing::info!(target: "audit", who = %posted.me.caller.name(), from = %posted.me.caller.origin, "administration logout");
    let cookie = set_cookie(SESSION_COOKIE, "", Some(Duration::ZERO), auth::is_secure(&parts));
    (AppendHeaders([(header::SET_COOKIE, cookie)]), see("/admin/logon")).into_response()
}
