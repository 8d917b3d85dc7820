//! `altimail doctor`.
