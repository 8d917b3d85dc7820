//! `hm_tcpipports`: the listeners (protocol, address, port, TLS mode, certificate).

use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use altimail_core::codes::{Protocol, Security};
use altimail_core::ip;

use crate::StoreError;
use crate::db::{Db, Row, Value};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Port {
    pub id: i64,
    pub protocol: Protocol,
    pub port: u16,
    /// Bind address; 0.0.0.0 means every IPv4 interface (hMailServer's 0/NULL).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub address: IpAddr,
    pub security: Security,
    /// `hm_sslcertificates` id; 0 means "the self-signed certificate" for TLS ports.
    pub certificate_id: i64,
}

const COLUMNS: &str =
    "portid, portprotocol, portnumber, portaddress1, portaddress2, portconnectionsecurity, portsslcertificateid";

impl Port {
    fn from_row(r: &Row) -> Result<Self, StoreError> {
        let proto = r.int("portprotocol")?;
        let number = r.int("portnumber")?;
        let ip1 = r.int("portaddress1")?;
        Ok(Port {
            id: r.int("portid")?,
            protocol: Protocol::from_code(proto)
                .ok_or_else(|| StoreError::Decode(format!("unknown port protocol {proto}")))?,
            port: u16::try_from(number)
                .map_err(|_| StoreError::Decode(format!("port number {number} out of range")))?,
            address: ip::from_columns(ip1, r.opt_int("portaddress2")?).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            security: Security::from_code(r.int("portconnectionsecurity")?).unwrap_or(Security::None),
            certificate_id: r.int("portsslcertificateid")?,
        })
    }

    fn values(&self) -> Vec<(&'static str, Value)> {
        let (a1, a2) = ip::to_columns(self.address);
        vec![
            ("portprotocol", self.protocol.code().into()),
            ("portnumber", i64::from(self.port).into()),
            ("portaddress1", a1.into()),
            ("portaddress2", a2.into()),
            ("portconnectionsecurity", self.security.code().into()),
            ("portsslcertificateid", self.certificate_id.into()),
        ]
    }
}

pub async fn list(db: &Db) -> Result<Vec<Port>, StoreError> {
    let rows = db.fetch_all(&format!("SELECT {COLUMNS} FROM hm_tcpipports ORDER BY portid"), &[]).await?;
    rows.iter().map(Port::from_row).collect()
}

pub async fn get(db: &Db, id: i64) -> Result<Option<Port>, StoreError> {
    let row = db.fetch_optional(&format!("SELECT {COLUMNS} FROM hm_tcpipports WHERE portid = ?"), &[id.into()]).await?;
    row.as_ref().map(Port::from_row).transpose()
}

async fn check(db: &Db, port: &Port) -> Result<(), StoreError> {
    let clash =
        list(db).await?.into_iter().any(|p| p.id != port.id && p.port == port.port && p.address == port.address);
    if clash {
        return Err(StoreError::Conflict(format!("port {} on {} is already configured", port.port, port.address)));
    }
    if port.certificate_id != 0 && super::certificates::get(db, port.certificate_id).await?.is_none() {
        return Err(StoreError::NotFound(format!("no certificate {}", port.certificate_id)));
    }
    Ok(())
}

pub async fn create(db: &Db, port: &Port) -> Result<Port, StoreError> {
    check(db, port).await?;
    let id = super::insert_row(db, "hm_tcpipports", "portid", &port.values()).await?;
    Ok(Port { id, ..port.clone() })
}

pub async fn update(db: &Db, port: &Port) -> Result<(), StoreError> {
    check(db, port).await?;
    super::update_row(db, "hm_tcpipports", "portid", port.id, &port.values()).await?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> Result<(), StoreError> {
    if db.execute("DELETE FROM hm_tcpipports WHERE portid = ?", &[id.into()]).await? == 0 {
        return Err(StoreError::NotFound(format!("no port {id}")));
    }
    Ok(())
}
