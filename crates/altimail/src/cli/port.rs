//! `altimail port …`, through the administration service.

use std::net::{IpAddr, Ipv4Addr};

use clap::Subcommand;

use altimail_admin::{Admin, NewPort, PortChanges};
use altimail_core::codes::{Protocol, Security};
use altimail_store::Store;

use super::output::Output;

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    Protocol::parse(s).ok_or_else(|| format!("{s:?}: expected smtp, pop3, imap or http"))
}

fn parse_security(s: &str) -> Result<Security, String> {
    Security::parse(s).ok_or_else(|| format!("{s:?}: expected none, tls, starttls or starttls-required"))
}

#[derive(Debug, Subcommand)]
pub enum PortCmd {
    /// Add a listening port.
    Add {
        /// smtp, pop3 or imap.
        #[arg(long, value_parser = parse_protocol)]
        protocol: Protocol,
        /// The TCP port number.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        port: u16,
        /// Bind address (default 0.0.0.0, every IPv4 interface; use :: for IPv6).
        #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
        address: IpAddr,
        /// none, tls (implicit, e.g. 465/993/995), starttls, starttls-required.
        #[arg(long, value_parser = parse_security, default_value = "none")]
        security: Security,
        /// Certificate id (see `altimail certificate list`); 0 = the self-signed certificate.
        #[arg(long, default_value_t = 0)]
        certificate: i64,
    },
    /// List ports.
    List,
    /// Show one port.
    Show {
        /// The port's id (see `altimail port list`).
        id: i64,
    },
    /// Change a port.
    Set {
        /// The port's id (see `altimail port list`).
        id: i64,
        /// smtp, pop3 or imap.
        #[arg(long, value_parser = parse_protocol)]
        protocol: Option<Protocol>,
        /// The TCP port number.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
        port: Option<u16>,
        /// Bind address (0.0.0.0 every IPv4 interface, :: IPv6).
        #[arg(long)]
        address: Option<IpAddr>,
        /// none, tls, starttls or starttls-required.
        #[arg(long, value_parser = parse_security)]
        security: Option<Security>,
        /// Certificate id; 0 = the self-signed certificate.
        #[arg(long)]
        certificate: Option<i64>,
    },
    /// Remove a port.
    Remove {
        /// The port's id (see `altimail port list`).
        id: i64,
    },
}

pub async fn run(cmd: PortCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let admin = Admin::new(store.clone());
    let me = super::caller();
    match cmd {
        PortCmd::Add { protocol, port, address, security, certificate } => {
            let new = NewPort {
                protocol: protocol.name().into(),
                port,
                address: Some(address),
                security: Some(security.name().into()),
                certificate_id: certificate,
            };
            let p = admin.create_port(&me, &new).await?;
            out.done(&format!("port {} added: {} on {}:{}", p.id, p.protocol.name(), p.address, p.port), &p)
        }
        PortCmd::List => {
            let all = admin.list_ports(&me).await?;
            let rows = all
                .iter()
                .map(|p| {
                    let cert = if p.security.uses_tls() && p.certificate_id == 0 {
                        "self-signed".into()
                    } else if p.security.uses_tls() {
                        p.certificate_id.to_string()
                    } else {
                        "-".into()
                    };
                    vec![
                        p.id.to_string(),
                        p.protocol.name().into(),
                        p.address.to_string(),
                        p.port.to_string(),
                        p.security.name().into(),
                        cert,
                    ]
                })
                .collect();
            out.table(&all, &["ID", "PROTOCOL", "ADDRESS", "PORT", "SECURITY", "CERTIFICATE-ID"], rows)
        }
        PortCmd::Show { id } => out.object(&admin.get_port(&me, id).await?),
        PortCmd::Set { id, protocol, port, address, security, certificate } => {
            let changes = PortChanges {
                protocol: protocol.map(|p| p.name().into()),
                port,
                address,
                security: security.map(|s| s.name().into()),
                certificate_id: certificate,
            };
            let p = admin.update_port(&me, id, &changes).await?;
            out.done(&format!("port {} updated", p.id), &p)
        }
        PortCmd::Remove { id } => {
            let p = admin.delete_port(&me, id).await?;
            out.done(&format!("port {id} removed"), &p)
        }
    }
}
