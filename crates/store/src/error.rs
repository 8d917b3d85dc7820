//! The store's error type.

use std::path::{Path, PathBuf};

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database engine reported an error (connection, SQL, constraint).
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// A row did not have the shape the schema promises.
    #[error("database row: {0}")]
    Decode(String),
    /// A file or directory of the data directory could not be read or written.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// The request conflicts with what is stored (duplicate address, unknown domain, ...).
    #[error("{0}")]
    Conflict(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The database is not one this version can use.
    #[error("schema: {0}")]
    Schema(String),
    /// A value given to the store is not valid.
    #[error("{0}")]
    Invalid(String),
    /// The database server could not be reached or refused the connection; the text names the
    /// cause (connection refused, authentication, missing database with the command to create
    /// it).
    #[error("{0}")]
    Connect(String),
}

impl StoreError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io { path: path.to_path_buf(), source }
    }

    /// True when the error is a unique-constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Sql(sqlx::Error::Database(e)) => e.is_unique_violation(),
            _ => false,
        }
    }
}
