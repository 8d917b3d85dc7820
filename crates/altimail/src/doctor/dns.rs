//! The DNS records of the host name and of each active domain, compared with the records
//! `altimail quickstart` tells the administrator to publish ([`dns_records`]).

use std::net::IpAddr;

use altimail_core::codes::Protocol;
use altimail_dns::{Dns, DnsError};
use altimail_store::Db;
use altimail_store::repo::{domains, ports::Port};
use altimail_web::ClientSettings;

use super::{Finding, NETWORK_TIMEOUT};
use crate::cli::quickstart::{DnsRecord, dns_records, public_key_of};

pub(crate) async fn check(db: &Db, dns: &dyn Dns, hostname: &str, ports: &[Port]) -> anyhow::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    if hostname.is_empty() {
        findings.push(Finding::problem(
            "dns",
            "the host name is not set, so the DNS records cannot be checked",
            "`altimail setting set hostname mail.example.com` (the name of the server's MX records)",
        ));
        return Ok(findings);
    }
    host_records(dns, hostname, &mut findings).await;
    let clients = ClientSettings::from_ports(hostname, ports);
    let http: Vec<&Port> = ports.iter().filter(|p| p.protocol == Protocol::Http).collect();
    for domain in domains::list(db).await?.into_iter().filter(|d| d.active) {
        let selector = domain.dkim_selector.trim().to_owned();
        let key_file = domain.dkim_private_key_file.trim().to_owned();
        let public = if selector.is_empty() || key_file.is_empty() {
            None
        } else {
            match std::fs::read(&key_file).map_err(anyhow::Error::from).and_then(|pem| public_key_of(&pem)) {
                Ok(public) => Some(public),
                Err(e) => {
                    findings.push(Finding::problem(
                        "dns",
                        format!("{}: the DKIM key {key_file} cannot be read: {e:#}", domain.name),
                        "restore the key file, or make a new key and publish it",
                    ));
                    None
                }
            }
        };
        let expected =
            dns_records(&domain.name, hostname, &selector, public.as_deref().unwrap_or_default(), &clients, &http);
        domain_records(dns, &domain.name, hostname, &expected, public.is_some(), &mut findings).await;
    }
    Ok(findings)
}

/// One lookup, bounded in time.
async fn lookup<T>(query: impl Future<Output = Result<T, DnsError>>) -> Result<T, DnsError> {
    tokio::time::timeout(NETWORK_TIMEOUT, query)
        .await
        .unwrap_or_else(|_| Err(DnsError::Failed(format!("no answer within {}s", NETWORK_TIMEOUT.as_secs()))))
}

/// The host name's addresses, and the reverse (PTR) name of each.
async fn host_records(dns: &dyn Dns, hostname: &str, findings: &mut Vec<Finding>) {
    let mut addresses: Vec<IpAddr> = Vec::new();
    let v4 = lookup(dns.a(hostname)).await;
    let v6 = lookup(dns.aaaa(hostname)).await;
    addresses.extend(v4.iter().flatten().map(|a| IpAddr::V4(*a)));
    addresses.extend(v6.iter().flatten().map(|a| IpAddr::V6(*a)));
    if addresses.is_empty() {
        let why = match (&v4, &v6) {
            (Err(DnsError::Failed(e)), _) | (_, Err(DnsError::Failed(e))) => format!(" ({e})"),
            _ => String::new(),
        };
        findings.push(Finding::problem(
            "dns",
            format!("{hostname} has no A or AAAA record{why}"),
            format!("publish `{hostname}. A <the server's public IPv4 address>` (and AAAA for IPv6)"),
        ));
        return;
    }
    let list: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    findings.push(Finding::ok("dns", format!("{hostname} has the address(es) {}", list.join(", "))));
    for ip in addresses {
        match lookup(dns.ptr(ip)).await {
            Ok(names) if names.iter().any(|n| n.eq_ignore_ascii_case(hostname)) => {
                findings.push(Finding::ok("dns", format!("PTR of {ip} is {hostname}")));
            }
            found => {
                let now = match found {
                    Ok(names) => format!("is {}", names.join(", ")),
                    Err(DnsError::NotFound) => "is not set".to_owned(),
                    Err(e) => format!("cannot be looked up ({e})"),
                };
                findings.push(Finding::problem(
                    "dns",
                    format!("PTR of {ip} {now}, not {hostname}"),
                    format!(
                        "ask the provider of {ip} to set its reverse DNS to {hostname}: many receivers refuse mail otherwise"
                    ),
                ));
            }
        }
    }
}

async fn domain_records(
    dns: &dyn Dns,
    domain: &str,
    hostname: &str,
    expected: &[DnsRecord],
    has_dkim: bool,
    findings: &mut Vec<Finding>,
) {
    let publish = |kind: &str, name_prefix: &str| -> String {
        match expected.iter().find(|r| r.kind == kind && r.name.starts_with(name_prefix)) {
            Some(r) => format!("publish `{} {} {}`", r.name, r.kind, r.value),
            None => format!("publish the {kind} record that `altimail quickstart` prints"),
        }
    };

    // MX: the domain's mail comes to this host.
    match lookup(dns.mx(domain)).await {
        Ok(hosts) if hosts.iter().any(|(_, h)| h.eq_ignore_ascii_case(hostname)) => {
            findings.push(Finding::ok("dns", format!("{domain}: MX points to {hostname}")));
        }
        found => findings.push(Finding::problem(
            "dns",
            format!(
                "{domain}: MX {}",
                describe(found.map(|h| h.into_iter().map(|(p, h)| format!("{p} {h}")).collect()))
            ),
            publish("MX", &format!("{domain}.")),
        )),
    }

    // SPF: exactly one v=spf1 record (RFC 7208 §4.5: two are a permanent error).
    let spf: Result<Vec<String>, DnsError> = lookup(dns.txt(domain))
        .await
        .map(|all| all.into_iter().filter(|t| t.to_ascii_lowercase().starts_with("v=spf1")).collect());
    match spf {
        Ok(records) if records.len() == 1 => {
            findings.push(Finding::ok("dns", format!("{domain}: SPF {}", records[0])));
        }
        Ok(records) if records.len() > 1 => findings.push(Finding::problem(
            "dns",
            format!(
                "{domain}: {} SPF records ({}): receivers treat that as an error",
                records.len(),
                records.join(" | ")
            ),
            format!("keep one: {}", publish("TXT", &format!("{domain}."))),
        )),
        found => findings.push(Finding::problem(
            "dns",
            format!("{domain}: SPF {}", describe(found)),
            publish("TXT", &format!("{domain}.")),
        )),
    }

    // DKIM: the published key is the one the server signs with.
    if has_dkim && let Some(record) = expected.iter().find(|r| r.name.contains("._domainkey.")) {
        let owner = record.name.trim_end_matches('.');
        let key = record.value.rsplit("p=").next().unwrap_or_default();
        match lookup(dns.txt(owner)).await {
            Ok(found) if found.iter().any(|t| public_key(t) == Some(key)) => {
                findings.push(Finding::ok("dns", format!("{domain}: DKIM key published at {owner}")));
            }
            Ok(found) => findings.push(Finding::problem(
                "dns",
                format!("{domain}: the DKIM record at {owner} is not the server's key ({})", found.join(" | ")),
                format!("publish `{} TXT {}`", record.name, record.value),
            )),
            Err(e) => findings.push(Finding::problem(
                "dns",
                format!("{domain}: DKIM {}", describe(Err(e))),
                format!("publish `{} TXT {}`", record.name, record.value),
            )),
        }
    } else if !has_dkim {
        findings.push(Finding::warning(
            "dns",
            format!("{domain}: no DKIM key: its mail is not signed"),
            format!("`altimail quickstart postmaster@{domain}` makes a key and prints its record"),
        ));
    }

    // DMARC.
    let dmarc_name = format!("_dmarc.{domain}");
    let dmarc: Result<Vec<String>, DnsError> = lookup(dns.txt(&dmarc_name))
        .await
        .map(|all| all.into_iter().filter(|t| t.to_ascii_lowercase().starts_with("v=dmarc1")).collect());
    match dmarc {
        Ok(records) if records.len() == 1 => {
            findings.push(Finding::ok("dns", format!("{domain}: DMARC {}", records[0])));
        }
        found => findings.push(Finding::problem(
            "dns",
            format!("{domain}: DMARC {}", describe(found)),
            publish("TXT", &format!("{dmarc_name}.")),
        )),
    }
}

/// The `p=` tag of a DKIM key record, without spaces.
fn public_key(record: &str) -> Option<&str> {
    record.split(';').map(str::trim).find_map(|tag| tag.strip_prefix("p=")).map(str::trim)
}

fn describe(found: Result<Vec<String>, DnsError>) -> String {
    match found {
        Ok(v) if v.is_empty() => "record is missing".to_owned(),
        Ok(v) => format!("is {} instead", v.join(", ")),
        Err(DnsError::NotFound) => "record is missing".to_owned(),
        Err(e) => format!("cannot be looked up: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_key_tag_is_found() {
        assert_eq!(public_key("v=DKIM1; k=rsa; p=MIIB"), Some("MIIB"));
        assert_eq!(public_key("v=DKIM1;p=AB "), Some("AB"));
        assert_eq!(public_key("v=DKIM1"), None);
    }
}
