//! Listening ports (`hm_tcpipports`): protocol, bind address, port number, TLS mode and
//! certificate. Server administrators only; a running server binds a change within seconds.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use altimail_core::codes::{Protocol, Security};
use altimail_store::repo::{certificates, ports};

use crate::{Admin, AdminError, Caller, audit};

pub use altimail_store::repo::ports::Port;

/// A port to add.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewPort {
    /// `smtp`, `pop3`, `imap` or `http`.
    pub protocol: String,
    pub port: u16,
    /// Bind address (default 0.0.0.0, every IPv4 interface; `::` for IPv6).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    #[serde(default)]
    pub address: Option<IpAddr>,
    /// `none`, `tls` (implicit), `starttls` or `starttls-required` (default none).
    #[serde(default)]
    pub security: Option<String>,
    /// Certificate id; 0 = the self-signed certificate.
    #[serde(default)]
    pub certificate_id: i64,
}

/// Changes to a port; fields left out stay as they are.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PortChanges {
    pub protocol: Option<String>,
    pub port: Option<u16>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub address: Option<IpAddr>,
    pub security: Option<String>,
    pub certificate_id: Option<i64>,
}

fn protocol(s: &str) -> Result<Protocol, AdminError> {
    Protocol::parse(s).ok_or_else(|| AdminError::Invalid(format!("{s:?}: expected smtp, pop3, imap or http")))
}

fn security(s: &str) -> Result<Security, AdminError> {
    Security::parse(s)
        .ok_or_else(|| AdminError::Invalid(format!("{s:?}: expected none, tls, starttls or starttls-required")))
}

impl Admin {
    /// Checks a port before it is stored: a number, HTTP without STARTTLS, a known certificate.
    async fn check_port(&self, p: &Port) -> Result<(), AdminError> {
        if p.port == 0 {
            return Err(AdminError::Invalid("port 0 is not a port to listen on".into()));
        }
        if p.protocol == Protocol::Http && !matches!(p.security, Security::None | Security::Tls) {
            return Err(AdminError::Invalid(
                "an http port is plain (none) or HTTPS (tls); HTTP has no STARTTLS".into(),
            ));
        }
        if p.certificate_id < 0 {
            return Err(AdminError::Invalid("a certificate id cannot be negative".into()));
        }
        if p.certificate_id > 0 && certificates::get(&self.store.db, p.certificate_id).await?.is_none() {
            return Err(AdminError::Invalid(format!("no certificate {}", p.certificate_id)));
        }
        let clash = ports::list(&self.store.db)
            .await?
            .into_iter()
            .any(|o| o.id != p.id && o.port == p.port && o.address == p.address);
        if clash {
            return Err(AdminError::Conflict(format!("another port listens on {}:{}", p.address, p.port)));
        }
        Ok(())
    }

    pub async fn list_ports(&self, caller: &Caller) -> Result<Vec<Port>, AdminError> {
        self.require_server(caller, "port.list", "ports").await?;
        Ok(ports::list(&self.store.db).await?)
    }

    pub async fn get_port(&self, caller: &Caller, id: i64) -> Result<Port, AdminError> {
        self.require_server(caller, "port.read", &id.to_string()).await?;
        ports::get(&self.store.db, id).await?.ok_or_else(|| AdminError::NotFound(format!("no port {id}")))
    }

    pub async fn create_port(&self, caller: &Caller, new: &NewPort) -> Result<Port, AdminError> {
        self.require_server(caller, "port.create", &new.port.to_string()).await?;
        let p = Port {
            id: 0,
            protocol: protocol(&new.protocol)?,
            port: new.port,
            address: new.address.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            security: new.security.as_deref().map(security).transpose()?.unwrap_or(Security::None),
            certificate_id: new.certificate_id,
        };
        self.check_port(&p).await?;
        let p = ports::create(&self.store.db, &p).await?;
        audit::change(caller, "port.create", &format!("{} {} {}:{}", p.id, p.protocol.name(), p.address, p.port));
        Ok(p)
    }

    pub async fn update_port(&self, caller: &Caller, id: i64, c: &PortChanges) -> Result<Port, AdminError> {
        let mut p = self.get_port(caller, id).await?;
        if let Some(v) = &c.protocol {
            p.protocol = protocol(v)?;
        }
        if let Some(v) = c.port {
            p.port = v;
        }
        if let Some(v) = c.address {
            p.address = v;
        }
        if let Some(v) = &c.security {
            p.security = security(v)?;
        }
        if let Some(v) = c.certificate_id {
            p.certificate_id = v;
        }
        self.check_port(&p).await?;
        ports::update(&self.store.db, &p).await?;
        audit::change(caller, "port.update", &format!("{} {} {}:{}", p.id, p.protocol.name(), p.address, p.port));
        Ok(p)
    }

    pub async fn delete_port(&self, caller: &Caller, id: i64) -> Result<Port, AdminError> {
        let p = self.get_port(caller, id).await?;
        ports::delete(&self.store.db, id).await?;
        audit::change(caller, "port.delete", &format!("{} {} {}:{}", p.id, p.protocol.name(), p.address, p.port));
        Ok(p)
    }
}
