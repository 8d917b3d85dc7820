//! The service's error type: one variant per kind of refusal, so that each caller can turn it
//! into what its clients understand (an exit status, an HTTP status, a COM error).

use altimail_store::StoreError;

/// Why an administration call was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdminError {
    /// A value breaks a rule: a malformed address, a negative size, a quota above the domain's
    /// largest account size.
    #[error("{0}")]
    Invalid(String),
    /// The object asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with what exists: an address in use, a name already taken.
    #[error("{0}")]
    Conflict(String),
    /// A limit of the domain is reached: accounts, aliases, lists, or its total size.
    #[error("{0}")]
    LimitReached(String),
    /// The object still holds something (accounts, messages) and removing it was not forced.
    #[error("{0}")]
    NotEmpty(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller is not (or no longer) known: wrong password, account removed or disabled.
    #[error("{0}")]
    Unauthenticated(String),
    /// The client's address is banned (auto-ban after failed logons).
    #[error("{0}")]
    Banned(String),
    /// The database or the data directory failed.
    #[error(transparent)]
    Store(StoreError),
}

impl AdminError {
    /// The HTTP status this error stands for.
    pub fn http_status(&self) -> u16 {
        match self {
            AdminError::Invalid(_) => 400,
            AdminError::Unauthenticated(_) => 401,
            AdminError::Forbidden(_) | AdminError::Banned(_) => 403,
            AdminError::NotFound(_) => 404,
            AdminError::Conflict(_) | AdminError::LimitReached(_) | AdminError::NotEmpty(_) => 409,
            AdminError::Store(_) => 500,
        }
    }

    /// A short machine-readable name of the kind of error (`invalid`, `not_found`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            AdminError::Invalid(_) => "invalid",
            AdminError::NotFound(_) => "not_found",
            AdminError::Conflict(_) => "conflict",
            AdminError::LimitReached(_) => "limit_reached",
            AdminError::NotEmpty(_) => "not_empty",
            AdminError::Forbidden(_) => "forbidden",
            AdminError::Unauthenticated(_) => "unauthenticated",
            AdminError::Banned(_) => "banned",
            AdminError::Store(_) => "internal",
        }
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(m) => AdminError::NotFound(m),
            StoreError::Conflict(m) => AdminError::Conflict(m),
            StoreError::Invalid(m) => AdminError::Invalid(m),
            other => AdminError::Store(other),
        }
    }
}

impl From<altimail_core::address::AddressError> for AdminError {
    fn from(e: altimail_core::address::AddressError) -> Self {
        AdminError::Invalid(e.to_string())
    }
}
