//! One certificate order, start to finish (RFC 8555 §7.4): the account, the order, an answer
//! per name, the CA's validation, the CSR, the chain.

use std::time::Duration;

use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewAccount, NewOrder, OrderStatus, RetryPolicy,
};

use altimail_net::AcmeChallenges;

use crate::error::{AcmeError, chain, describe, problem_text};
use crate::files::{StoredAccount, read_account, write_account};
use crate::settings::{AcmeSettings, ChallengeKind};

/// How long the CA gets to validate every name and then to issue.
const VALIDATION_LIMIT: Duration = Duration::from_secs(120);

/// A certificate and its key, in PEM.
pub(crate) struct Issued {
    pub(crate) chain_pem: String,
    pub(crate) key_pem: String,
}

/// The account of `settings.directory`, restored from the data folder or created (and stored).
async fn account(settings: &AcmeSettings, data_dir: &std::path::Path) -> Result<Account, AcmeError> {
    let unreachable =
        |e: instant_acme::Error| AcmeError::Unreachable { directory: settings.directory.clone(), reason: describe(&e) };
    let builder = || match &settings.directory_ca {
        Some(ca) => Account::builder_with_root(ca).map_err(|e| AcmeError::Unreachable {
            directory: settings.directory.clone(),
            reason: format!("[acme] directory_ca {}: {}", ca.display(), chain(&e)),
        }),
        None => Account::builder().map_err(unreachable),
    };
    if let Some(stored) = read_account(data_dir)
        && stored.directory == settings.directory
    {
        return builder()?.from_credentials(stored.credentials).await.map_err(unreachable);
    }
    let contact: Vec<&str> = settings.contact.iter().map(String::as_str).collect();
    let new = NewAccount { contact: &contact, terms_of_service_agreed: true, only_return_existing: false };
    let (account, credentials) = match builder()?.create(&new, settings.directory.clone(), None).await {
        Ok(created) => created,
        Err(instant_acme::Error::Api(problem)) => {
            return Err(AcmeError::Refused { what: "a new account", problem: problem_text(&problem) });
        }
        Err(e) => return Err(unreachable(e)),
    };
    tracing::info!("created an ACME account at {} ({})", settings.directory, account.id());
    write_account(data_dir, &StoredAccount { directory: settings.directory.clone(), credentials })?;
    Ok(account)
}

/// Orders a certificate for `names`, answering through `challenges` (emptied again whatever
/// the outcome).
pub(crate) async fn obtain(
    settings: &AcmeSettings,
    names: &[String],
    data_dir: &std::path::Path,
    challenges: &AcmeChallenges,
) -> Result<Issued, AcmeError> {
    if names.is_empty() {
        return Err(AcmeError::NoNames);
    }
    let result = run(settings, names, data_dir, challenges).await;
    challenges.clear();
    result
}

async fn run(
    settings: &AcmeSettings,
    names: &[String],
    data_dir: &std::path::Path,
    challenges: &AcmeChallenges,
) -> Result<Issued, AcmeError> {
    let account = account(settings, data_dir).await?;
    let identifiers: Vec<Identifier> = names.iter().map(|n| Identifier::Dns(n.clone())).collect();
    let refused = |what: &'static str| move |e: instant_acme::Error| AcmeError::Refused { what, problem: describe(&e) };
    let mut order = match account.new_order(&NewOrder::new(&identifiers)).await {
        Ok(order) => order,
        Err(instant_acme::Error::Api(problem))
            if problem.r#type.as_deref().is_some_and(|t| t.ends_with(":accountDoesNotExist")) =>
        {
            // The CA forgot the account (a test CA restarted, an account deactivated): the
            // next attempt creates a new one.
            let _ = std::fs::remove_file(crate::files::account_path(data_dir));
            return Err(AcmeError::Refused { what: "the order", problem: problem_text(&problem) });
        }
        Err(e) => return Err(refused("the order")(e)),
    };
    let (kind, wanted) = match settings.challenge {
        ChallengeKind::Http01 => ("http-01", ChallengeType::Http01),
        ChallengeKind::TlsAlpn01 => ("tls-alpn-01", ChallengeType::TlsAlpn01),
    };

    // Every answer is in place before the CA is told to look.
    let mut ready = Vec::new();
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization.map_err(refused("an authorization"))?;
        let name = authorization.identifier().to_string();
        match authorization.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => {
                return Err(AcmeError::ChallengeFailed {
                    name,
                    challenge: kind,
                    problem: format!("the authorization is {other:?}"),
                });
            }
        }
        let Some(challenge) = authorization.challenge(wanted.clone()) else {
            return Err(AcmeError::NoChallenge { name, challenge: kind });
        };
        let key_authorization = challenge.key_authorization();
        match settings.challenge {
            ChallengeKind::Http01 => challenges.add_http(&challenge.token, key_authorization.as_str()),
            ChallengeKind::TlsAlpn01 => {
                let (cert, key) = validation_certificate(&name, key_authorization.digest().as_ref())?;
                challenges
                    .add_tls_alpn(&name, &cert, &key)
                    .map_err(|e| AcmeError::Files(format!("cannot answer tls-alpn-01 for {name}: {e}")))?;
            }
        }
        ready.push(challenge.url.clone());
        tracing::info!("{kind} answer for {name} in place");
    }
    let mut authorizations = order.authorizations();
    while let Some(authorization) = authorizations.next().await {
        let mut authorization = authorization.map_err(refused("an authorization"))?;
        if let Some(mut challenge) = authorization.challenge(wanted.clone())
            && ready.contains(&challenge.url)
        {
            challenge.set_ready().await.map_err(refused("the challenge"))?;
        }
    }

    let retries = RetryPolicy::new().initial_delay(Duration::from_millis(500)).timeout(VALIDATION_LIMIT);
    let status = match order.poll_ready(&retries).await {
        Ok(status) => status,
        Err(instant_acme::Error::Timeout(_)) => return Err(AcmeError::TimedOut(VALIDATION_LIMIT.as_secs())),
        // An invalid order comes back as its problem document; the challenge's own problem
        // says which name failed.
        Err(instant_acme::Error::Api(_)) => OrderStatus::Invalid,
        Err(e) => return Err(refused("the order")(e)),
    };
    if status != OrderStatus::Ready {
        return Err(why_invalid(&mut order, kind).await);
    }
    let key_pem = order.finalize().await.map_err(refused("the certificate request"))?;
    let chain_pem = match order.poll_certificate(&retries).await {
        Ok(chain) => chain,
        Err(instant_acme::Error::Timeout(_)) => return Err(AcmeError::TimedOut(VALIDATION_LIMIT.as_secs())),
        Err(e) => return Err(refused("the certificate")(e)),
    };
    Ok(Issued { chain_pem, key_pem })
}

/// The CA's reason for an invalid order: the first challenge with an error, else the order's.
async fn why_invalid(order: &mut instant_acme::Order, kind: &'static str) -> AcmeError {
    let mut authorizations = order.authorizations();
    while let Some(Ok(authorization)) = authorizations.next().await {
        let name = authorization.identifier().to_string();
        if let Some(problem) = authorization.challenges.iter().find_map(|c| c.error.as_ref()) {
            return AcmeError::ChallengeFailed { name, challenge: kind, problem: problem_text(problem) };
        }
        if authorization.status == AuthorizationStatus::Invalid {
            return AcmeError::ChallengeFailed {
                name,
                challenge: kind,
                problem: "the authorization is invalid".into(),
            };
        }
    }
    let problem = match order.refresh().await {
        Ok(state) => state.error.as_ref().map(problem_text),
        Err(e) => Some(describe(&e)),
    };
    AcmeError::Refused { what: "the order", problem: problem.unwrap_or_else(|| "the order is invalid".into()) }
}

/// The self-signed certificate of RFC 8737 §3: `name` as its only SAN, and the critical
/// acmeIdentifier extension holding the SHA-256 digest of the key authorization.
fn validation_certificate(name: &str, digest: &[u8]) -> Result<(String, String), AcmeError> {
    let failed = |e: rcgen::Error| AcmeError::Files(format!("cannot make the tls-alpn-01 certificate: {e}"));
    let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).map_err(failed)?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let key = rcgen::KeyPair::generate().map_err(failed)?;
    let cert = params.self_signed(&key).map_err(failed)?;
    Ok((cert.pem(), key.serialize_pem()))
}
