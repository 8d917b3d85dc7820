//! `hm_sslcertificates`: PEM certificate and key files for TLS ports.

use serde::Serialize;

use crate::StoreError;
use crate::db::{Db, Row};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    pub id: i64,
    pub name: String,
    pub certificate_file: String,
    pub private_key_file: String,
}

impl Certificate {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        Ok(Certificate {
            id: r.int("sslcertificateid")?,
            name: r.text("sslcertificatename")?,
            certificate_file: r.text("sslcertificatefile")?,
            private_key_file: r.text("sslprivatekeyfile")?,
        })
    }
}

const COLUMNS: &str = "sslcertificateid, sslcertificatename, sslcertificatefile, sslprivatekeyfile";

pub async fn list(db: &Db) -> Result<Vec<Certificate>, StoreError> {
    let rows =
        db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_sslcertificates ORDER BY sslcertificateid"), &[]).await?;
    rows.iter().map(Certificate::from_row).collect()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Certificate>, StoreError> {
    let row = db
        .fetch_optional(&format!("SELECT {COLUMNS} FROM hm_sslcertificates WHERE sslcertificateid = ?"), &[id.into()])
        .await?;
    row.as_ref().map(Certificate::from_row).transpose()
}

pub async fn create(
    db: &Db,
    name: &str,
    certificate_file: &str,
    private_key_file: &str,
) -> Result<Certificate, StoreError> {
    let id = super::insert_row(
        db,
        "hm_sslcertificates",
        "sslcertificateid",
        &[
            ("sslcertificatename", name.into()),
            ("sslcertificatefile", certificate_file.into()),
            ("sslprivatekeyfile", private_key_file.into()),
        ],
    )
    .await?;
    Ok(Certificate {
        id,
        name: name.to_owned(),
        certificate_file: certificate_file.to_owned(),
        private_key_file: private_key_file.to_owned(),
    })
}

/// Removes a certificate; refused while a port uses it.
pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    if db
        .fetch_optional("SELECT portid FROM hm_tcpipports WHERE portsslcertificateid = ?", &[id.into()])
        .await?
        .is_some()
    {
        return Err(StoreError::Conflict(format!("certificate {id} is used by a port")));
    }
    db.execute("DELETE FROM hm_sslcertificates WHERE sslcertificateid = ?", &[id.into()]).await?;
    Ok(())
}
