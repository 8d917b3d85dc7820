//! What can go wrong while obtaining a certificate, in words for the administrator.

/// An ACME attempt that did not end with a certificate. The certificate in place stays.
#[derive(Debug, thiserror::Error)]
pub enum AcmeError {
    /// The directory could not be fetched or the account not created or found.
    #[error("cannot reach the ACME directory {directory}: {reason}")]
    Unreachable {
        /// The directory URL.
        directory: String,
        /// The cause, with its sources.
        reason: String,
    },
    /// The CA answered a request with a problem document (RFC 7807).
    #[error("the CA refused {what}: {problem}")]
    Refused {
        /// What we asked for.
        what: &'static str,
        /// The problem's detail and type.
        problem: String,
    },
    /// The CA could not validate a name.
    #[error("{challenge} validation of {name} failed: {problem}")]
    ChallengeFailed {
        /// The name.
        name: String,
        /// `http-01` or `tls-alpn-01`.
        challenge: &'static str,
        /// The CA's problem detail and type.
        problem: String,
    },
    /// The CA does not offer this challenge type for a name.
    #[error("the CA offers no {challenge} challenge for {name}")]
    NoChallenge {
        /// The name.
        name: String,
        /// The challenge type asked for.
        challenge: &'static str,
    },
    /// No name to order a certificate for.
    #[error("no names: set [acme] names, or the host name (altimail setting set hostname mail.example.com)")]
    NoNames,
    /// The order did not finish in time.
    #[error("the CA did not finish the order within {0} seconds")]
    TimedOut(u64),
    /// Reading or writing our files.
    #[error("{0}")]
    Files(String),
}

/// An error with its sources, on one line ("connection refused" sits several levels down in
/// hyper's errors).
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// The problem document of an instant-acme error, or the error with its sources.
pub(crate) fn describe(e: &instant_acme::Error) -> String {
    match e {
        instant_acme::Error::Api(problem) => problem_text(problem),
        other => chain(other),
    }
}

/// "detail (type)", and the subproblems' details.
pub(crate) fn problem_text(p: &instant_acme::Problem) -> String {
    let mut text = p.detail.clone().unwrap_or_else(|| "no detail given".to_owned());
    if let Some(kind) = &p.r#type {
        text.push_str(&format!(" ({kind})"));
    }
    for sub in &p.subproblems {
        if let Some(detail) = &sub.detail {
            text.push_str(&format!("; {detail}"));
        }
    }
    text
}
