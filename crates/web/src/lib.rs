//! The web listener of Altimail Server: the documents mail clients fetch to configure
//! themselves, and, on a listener of its own, the administration REST API ([`api`]) and the
//! web administration ([`ui`]) beside it.
//!
//! [`WebServer`] is the [`SessionHandler`] for `hm_tcpipports` rows of protocol `http` (plain
//! or implicit TLS, through the same listeners, IP ranges and certificates as the mail ports).
//! It serves, with an [`axum`] router over one HTTP/1.1 connection per session:
//!
//! * `GET /mail/config-v1.1.xml?emailaddress=…` and
//!   `GET /.well-known/autoconfig/mail/config-v1.1.xml`: Thunderbird's autoconfig;
//! * `POST /autodiscover/autodiscover.xml` (any case): Microsoft's Autodiscover for Outlook;
//! * `GET /.well-known/acme-challenge/{token}`: ACME HTTP-01 answers while a certificate order
//!   is pending ([`AcmeChallenges`]).
//!
//! Both name the `hostname` setting and the ports and security configured now
//! ([`clients::ClientSettings`]). A session has [`SESSION_LIMIT`] in all, [`HEADER_TIMEOUT`] for
//! each request head, heads of at most [`MAX_HEAD`] bytes and bodies of at most [`MAX_BODY`].

#![warn(unreachable_pub)]

pub mod api;
pub mod clients;
pub mod ui;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;

use altimail_core::address::Address;
use altimail_net::{AcmeChallenges, Connection, SessionHandler};
use altimail_store::Store;
use altimail_store::repo::{domains, ports};

pub use clients::{ClientSettings, Endpoint};

/// The longest a session may last, requests and keep-alive included.
pub const SESSION_LIMIT: Duration = Duration::from_secs(60);
/// The longest a request head may take to arrive, from the first byte.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(20);
/// The largest request head (request line and headers).
pub const MAX_HEAD: usize = 16 * 1024;
/// The largest request body (an Autodiscover request is a few hundred bytes).
pub const MAX_BODY: usize = 16 * 1024;

/// Serves the web listener's sessions.
#[derive(Clone)]
pub struct WebServer {
    store: Store,
    acme: AcmeChallenges,
}

impl std::fmt::Debug for WebServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebServer").finish_non_exhaustive()
    }
}

impl WebServer {
    pub fn new(store: Store) -> WebServer {
        WebServer { store, acme: AcmeChallenges::default() }
    }

    /// Answers the HTTP-01 validations pending in `challenges`.
    pub fn with_acme_challenges(mut self, challenges: AcmeChallenges) -> WebServer {
        self.acme = challenges;
        self
    }

    /// The routes, for one session.
    fn router(&self) -> Router {
        Router::new()
            .route("/mail/config-v1.1.xml", get(autoconfig))
            .route("/.well-known/autoconfig/mail/config-v1.1.xml", get(autoconfig))
            .route("/autodiscover/autodiscover.xml", post(autodiscover))
            .route("/Autodiscover/Autodiscover.xml", post(autodiscover))
            .route("/AutoDiscover/AutoDiscover.xml", post(autodiscover))
            .route("/.well-known/acme-challenge/{token}", get(acme_challenge).with_state(self.acme.clone()))
            .fallback(|| async { (StatusCode::NOT_FOUND, "not found\n") })
            .layer(DefaultBodyLimit::max(MAX_BODY))
            .with_state(self.store.clone())
    }
}

impl SessionHandler for WebServer {
    fn handle(&self, conn: Connection) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let router = self.router();
        Box::pin(serve(conn, router))
    }
}

async fn serve(conn: Connection, router: Router) {
    let stopping = conn.shutdown_signal();
    let peer = conn.peer;
    let http = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .serve_connection(TokioIo::new(conn.stream), TowerToHyperService::new(router));
    tokio::pin!(http, stopping);
    let limit = tokio::time::sleep(SESSION_LIMIT);
    tokio::pin!(limit);
    let mut draining = false;
    loop {
        tokio::select! {
            result = &mut http => {
                if let Err(e) = result {
                    tracing::debug!("HTTP session with {peer}: {e}");
                }
                return;
            }
            () = &mut stopping, if !draining => {
                // Finish the request in progress, then close.
                http.as_mut().graceful_shutdown();
                draining = true;
            }
            () = &mut limit => {
                tracing::debug!("HTTP session with {peer}: closed after {}s", SESSION_LIMIT.as_secs());
                return;
            }
        }
    }
}

/// HTTP-01 (RFC 8555 §8.3): the key authorization of a pending token, as `text/plain`
/// (`application/octet-stream` is also allowed; Let's Encrypt and Pebble accept either).
async fn acme_challenge(State(challenges): State<AcmeChallenges>, Path(token): Path<String>) -> Response {
    match challenges.http(&token) {
        Some(key_authorization) => {
            tracing::info!("answered an HTTP-01 validation request");
            ([(header::CONTENT_TYPE, "text/plain")], key_authorization).into_response()
        }
        None => refuse(StatusCode::NOT_FOUND, "no such challenge"),
    }
}

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], body)
        .into_response()
}

fn refuse(status: StatusCode, text: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{text}\n")).into_response()
}

/// The client settings for `domain` when it is one of ours (a domain or a domain alias).
async fn settings_for(store: &Store, domain: &str) -> Result<ClientSettings, Response> {
    let internal = |e: altimail_store::StoreError| {
        tracing::error!("autoconfiguration: {e}");
        refuse(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable")
    };
    match domains::find_by_name_or_alias(&store.db, domain).await {
        Ok(Some(d)) if d.domain.active => {}
        Ok(_) => return Err(refuse(StatusCode::NOT_FOUND, "no such domain here")),
        Err(e) => return Err(internal(e)),
    }
    let settings = altimail_store::repo::settings::Settings::load(&store.db).await.map_err(internal)?;
    let all = ports::list(&store.db).await.map_err(internal)?;
    let host = settings.string("hostname");
    Ok(ClientSettings::from_ports(host.trim(), &all))
}

#[derive(serde::Deserialize)]
struct AutoconfigQuery {
    emailaddress: Option<String>,
}

/// Thunderbird asks `autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=…` or
/// `<domain>/.well-known/autoconfig/mail/config-v1.1.xml`; the domain comes from the address,
/// else from the Host header.
async fn autoconfig(State(store): State<Store>, Query(query): Query<AutoconfigQuery>, headers: HeaderMap) -> Response {
    let address = query.emailaddress.filter(|a| !a.is_empty());
    let domain = match address {
        Some(a) => match Address::parse(&a) {
            Ok(a) => a.domain().to_ascii_lowercase(),
            Err(_) => return refuse(StatusCode::BAD_REQUEST, "emailaddress is not an e-mail address"),
        },
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
            let host = host.rsplit_once(':').map_or(host, |(h, p)| if p.parse::<u16>().is_ok() { h } else { host });
            let host = host.trim_end_matches('.').to_ascii_lowercase();
            host.strip_prefix("autoconfig.").map(str::to_owned).unwrap_or(host)
        }
    };
    match settings_for(&store, &domain).await {
        Ok(s) => xml(s.autoconfig_xml(&domain)),
        Err(r) => r,
    }
}

/// Outlook posts its request schema with the address; the answer lists IMAP, POP3 and SMTP.
async fn autodiscover(State(store): State<Store>, body: Bytes) -> Response {
    let address = match clients::autodiscover_address(&body) {
        Ok(a) => a,
        Err(clients::RequestError::UnsupportedSchema) => {
            return refuse(StatusCode::NOT_FOUND, "only the Outlook response schema (2006a) is served");
        }
        Err(clients::RequestError::Malformed(why)) => return refuse(StatusCode::BAD_REQUEST, why),
    };
    let Ok(parsed) = Address::parse(&address) else {
        return refuse(StatusCode::BAD_REQUEST, "EMailAddress is not an e-mail address");
    };
    match settings_for(&store, &parsed.domain().to_ascii_lowercase()).await {
        Ok(s) => xml(s.autodiscover_xml(parsed.as_str())),
        Err(r) => r,
    }
}
