//! The REST API of the administration: JSON under `/api/v1`, over the administration service
//! ([`altimail_admin`]), so it has the command line's rules and the callers' rights.
//!
//! * `POST /api/v1/auth/token` with `{"user": …, "password": …}` logs on as `Administrator`
//!   (the administrator password, `altimail admin password`) or as an account (its password;
//!   its admin level decides what it may do) and returns a bearer token valid for an hour;
//!   `DELETE /api/v1/auth/token` ends it.
//! * Every other call but `GET /api/v1/openapi.json` needs `Authorization: Bearer <token>`.
//! * Errors are `{"error": "<code>", "message": "…"}` with the status of
//!   [`AdminError::http_status`].
//!
//! * Failed logons and unknown bearer tokens count towards auto-ban as the mail protocols'
//!   failed logons do (same settings, same `Auto-ban: <user>` ranges, same trusted addresses);
//!   a banned address gets `403` with `{"error": "banned"}` on every call until the ban ends.
//!
//! The API has a listener of its own ([`serve`]), on the address the configuration names
//! (`[api] listen`), by default on the loopback interface only.

mod handlers;
mod openapi;
mod server;
mod tokens;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use altimail_admin::{Admin, AdminError, Caller};
use altimail_net::Policy;

pub use handlers::{DomainFilter, Force, Logon, NewDomainAlias, NewMember, Token};
pub use openapi::{ApiDoc, document as openapi_document};
pub use server::RangeFilter;
pub use tokens::{TOKEN_LIFETIME, Tokens};

/// The largest request body the API takes.
pub const MAX_API_BODY: usize = 64 * 1024;
/// The longest a connection to the API may last.
pub const API_SESSION_LIMIT: Duration = Duration::from_secs(300);

/// What every request handler reaches: the service, the tokens issued and the connection
/// policy whose auto-ban failed logons count towards.
#[derive(Clone)]
pub struct Api {
    pub admin: Admin,
    pub tokens: Tokens,
    policy: Option<Policy>,
}

impl Api {
    pub fn new(admin: Admin) -> Api {
        Api { admin, tokens: Tokens::default(), policy: None }
    }

    /// Counts failed logons and unknown tokens with `policy`'s auto-ban, and refuses banned
    /// addresses (the running server's policy, shared with the mail listeners).
    pub fn with_policy(mut self, policy: Policy) -> Api {
        self.policy = Some(policy);
        self
    }

    /// Refuses a client whose address auto-ban has banned.
    async fn refuse_banned(&self, peer: IpAddr) -> Result<(), AdminError> {
        let Some(policy) = &self.policy else { return Ok(()) };
        match policy.ban_of(peer).await {
            Some(ban) => Err(banned(peer, ban.expires.then_some(ban.expires_time))),
            None => Ok(()),
        }
    }

    /// Counts a failed logon (or an unknown token) from `peer` as `user`; the error to answer.
    async fn failed_logon(&self, peer: IpAddr, user: &str, error: AdminError) -> AdminError {
        let Some(policy) = &self.policy else { return error };
        if policy.logon_failed(peer, user).await {
            tracing::warn!(target: "audit", who = %user, from = %format!("api {peer}"), "administration logons from {peer} banned after repeated failures");
            return match policy.ban_of(peer).await {
                Some(ban) => banned(peer, ban.expires.then_some(ban.expires_time)),
                None => AdminError::Banned(format!("{peer}: too many failed logons")),
            };
        }
        error
    }

    /// The routes of `/api/v1`, for the connection from `peer`.
    pub fn router(&self, peer: SocketAddr) -> Router {
        handlers::routes()
            .merge(server::routes())
            .layer(DefaultBodyLimit::max(MAX_API_BODY))
            .layer(axum::Extension(Peer(peer)))
            .with_state(self.clone())
    }
}

/// Serves the API on `listener` until `stop` turns true.
pub async fn serve(listener: TcpListener, api: Api, stop: tokio::sync::watch::Receiver<bool>) {
    serve_routes(listener, move |peer| api.router(peer), stop).await;
}

/// Serves the routes `routes` makes for each connection's peer on `listener` until `stop`
/// turns true (the API alone, or with the web administration beside it).
pub async fn serve_routes(
    listener: TcpListener,
    routes: impl Fn(SocketAddr) -> Router + Send + 'static,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("API listener: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let service = TowerToHyperService::new(routes(peer));
        tokio::spawn(async move {
            let http = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(crate::HEADER_TIMEOUT)
                .max_buf_size(crate::MAX_HEAD)
                .serve_connection(TokioIo::new(stream), service);
            match tokio::time::timeout(API_SESSION_LIMIT, http).await {
                Ok(Err(e)) => tracing::debug!("API connection from {peer}: {e}"),
                Err(_) => tracing::debug!("API connection from {peer}: closed after {}s", API_SESSION_LIMIT.as_secs()),
                Ok(Ok(())) => {}
            }
        });
    }
}

/// The client's address, for the audit log.
#[derive(Clone, Copy)]
struct Peer(SocketAddr);

fn origin(parts: &Parts) -> String {
    match parts.extensions.get::<Peer>() {
        Some(Peer(p)) => format!("api {p}"),
        None => "api".to_owned(),
    }
}

/// The caller of a request, from its bearer token.
struct Authed(Caller);

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

impl FromRequestParts<Api> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Api) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<Peer>().map(|p| p.0.ip());
        if let Some(peer) = peer {
            api.refuse_banned(peer).await?;
        }
        let token = bearer(parts).ok_or_else(|| {
            ApiError(AdminError::Unauthenticated("log on first: Authorization: Bearer <token>".into()))
        })?;
        let Some(mut caller) = api.tokens.caller(token) else {
            let error = AdminError::Unauthenticated("the token is unknown or expired".into());
            return Err(ApiError(match peer {
                Some(peer) => api.failed_logon(peer, "API bearer token", error).await,
                None => error,
            }));
        };
        caller.origin = origin(parts);
        Ok(Authed(caller))
    }
}

fn banned(peer: IpAddr, until: Option<chrono::NaiveDateTime>) -> AdminError {
    AdminError::Banned(match until {
        Some(t) => format!("{peer} is banned after repeated failed logons until {}", t.format("%Y-%m-%d %H:%M")),
        None => format!("{peer} is banned after repeated failed logons"),
    })
}

/// An error as the API answers it.
struct ApiError(AdminError);

impl From<AdminError> for ApiError {
    fn from(e: AdminError) -> Self {
        ApiError(e)
    }
}

/// The body of an error answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `invalid`, `not_found`, `conflict`, `limit_reached`, `not_empty`, `forbidden`,
    /// `unauthenticated` or `internal`.
    pub error: String,
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = match &self.0 {
            AdminError::Store(e) => {
                tracing::error!("API: {e}");
                "internal error; see the server's log".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (status, axum::Json(ErrorBody { error: self.0.code().to_owned(), message })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
