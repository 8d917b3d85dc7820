//! `altimail quickstart you@example.com`: from an empty installation to a working domain in one
//! command. It sets the host name, creates the domain with a DKIM key and the first account,
//! and prints, once, the DNS records to publish, the client settings and where the TLS
//! certificate is. It needs no standard input; running it again creates nothing twice.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use base64::Engine;
use clap::Args;
use serde::Serialize;

use altimail_core::address::Address;
use altimail_core::codes::{Protocol, Security};
use altimail_store::repo::settings::Settings;
use altimail_store::repo::{accounts, domains, ports};
use altimail_store::{Store, schema};
use altimail_web::ClientSettings;

use super::output::Output;
use crate::config::Config;

/// `domainantispamoptions` bit 2: sign outgoing mail with DKIM (relaxed/relaxed, SHA-256).
const DKIM_SIGN: i64 = 2;

#[derive(Debug, Args)]
pub struct QuickstartArgs {
    /// The first account's address; its domain becomes the server's first domain.
    address: String,
    /// The server's host name: its MX host, its name in greetings and certificates
    /// (default: mail.<domain>).
    #[arg(long, value_name = "NAME")]
    hostname: Option<String>,
    /// The first account's password (default: a generated one, printed once; visible to other
    /// local users in the process list, prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Read the first account's password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
    /// The DKIM selector: the key is published at <selector>._domainkey.<domain>.
    #[arg(long, value_name = "SELECTOR", default_value = "altimail")]
    dkim_selector: String,
}

/// One DNS record to publish.
#[derive(Debug, Clone, Serialize)]
pub struct DnsRecord {
    /// Fully qualified owner name, with its final dot.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The record's data as a zone file writes it (TXT without quotes).
    pub value: String,
    /// What it is for.
    pub purpose: String,
}

#[derive(Debug, Serialize)]
struct ClientView {
    protocol: &'static str,
    host: String,
    port: u16,
    security: &'static str,
    login: String,
}

#[derive(Debug, Serialize)]
struct CertificateView {
    /// The certificate file the TLS ports use now.
    certificate: String,
    key: String,
    self_signed: bool,
    replace: Vec<String>,
}

/// Everything printed, once.
#[derive(Debug, Serialize)]
struct Report {
    hostname: String,
    domain: String,
    address: String,
    /// Set when this run generated the password; `null` when it was given or the account
    /// already existed.
    password: Option<String>,
    dkim_selector: String,
    dkim_key_file: String,
    dns_records: Vec<DnsRecord>,
    clients: Vec<ClientView>,
    autoconfig_urls: Vec<String>,
    certificate: CertificateView,
    /// Where and how to log on to the web administration.
    web_admin: WebAdminView,
    /// What this run did not do because it was already done, and other remarks.
    notes: Vec<String>,
}

#[derive(Debug, Serialize)]
struct WebAdminView {
    /// `null` while `[api] listen` is not set (the administration is off).
    url: Option<String>,
    user: &'static str,
    /// Set when this run generated the administrator password (there was none).
    password: Option<String>,
}

/// Runs `quickstart`: opens the configured store (creating the schema in an empty database, as
/// `serve` does) and sets up the domain.
pub async fn run(args: QuickstartArgs, config: &Config, out: &Output) -> anyhow::Result<()> {
    // Check the input before anything is created.
    let address = Address::parse(&args.address)
        .map_err(|e| anyhow::anyhow!("{:?} is not an e-mail address: {e}", args.address))?;
    let domain = address.domain().to_ascii_lowercase();
    check_dns_name(&domain).with_context(|| format!("the domain of {address}"))?;
    let hostname = match &args.hostname {
        Some(h) => h.trim_end_matches('.').to_ascii_lowercase(),
        None => format!("mail.{domain}"),
    };
    check_dns_name(&hostname).context("--hostname")?;
    let selector = args.dkim_selector.to_ascii_lowercase();
    if selector.is_empty()
        || selector.len() > 63
        || !selector.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        || selector.starts_with('-')
    {
        bail!("--dkim-selector {:?}: letters, digits and '-' only, at most 63", args.dkim_selector);
    }
    let given_password = if args.password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
        Some(s.lines().next().unwrap_or("").to_owned())
    } else {
        args.password.clone()
    };
    if given_password.as_deref() == Some("") {
        bail!("the password is empty");
    }

    config.create_dirs()?;
    {
        let db = altimail_store::Db::connect(&config.database)
            .await
            .with_context(|| format!("cannot open {}", config.database.describe()))?;
        if schema::inspect(&db).await? == schema::SchemaState::Empty {
            schema::create(&db).await?;
            crate::init::apply_new_installation_defaults(&db).await?;
        }
        db.close().await;
    }
    let store = Store::open(&config.database, &config.data_dir, false)
        .await
        .with_context(|| format!("cannot open {}", config.database.describe()))?;
    let result = set_up(&store, config, &address, &domain, &hostname, &selector, given_password, &args).await;
    store.db.close().await;
    let report = result?;
    if out.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn set_up(
    store: &Store,
    config: &Config,
    address: &Address,
    domain_name: &str,
    hostname: &str,
    selector: &str,
    given_password: Option<String>,
    args: &QuickstartArgs,
) -> anyhow::Result<Report> {
    let db = &store.db;
    let mut notes = Vec::new();

    // Everything that could refuse is checked before anything is written.
    let existing_account = accounts::find(db, address.as_str()).await?;
    if existing_account.is_some() && given_password.is_some() {
        bail!(
            "account {address} already exists; its password was not changed \
             (use `altimail account set {address} --password-stdin`)"
        );
    }
    let existing_domain = domains::find(db, domain_name).await?;
    if existing_domain.is_none()
        && let Some(alias) = altimail_store::repo::domain_aliases::find(db, domain_name).await?
    {
        bail!("{} is a domain alias here; give an address of the domain itself", alias.alias);
    }
    let settings = Settings::load(db).await?;
    let current_host = settings.string("hostname").trim().to_ascii_lowercase();

    // The host name.
    let hostname = if args.hostname.is_none() && !current_host.is_empty() && current_host != hostname {
        notes.push(format!("the host name stays {current_host} (give --hostname to change it)"));
        current_host
    } else {
        if current_host != hostname {
            altimail_store::repo::settings::set_string(db, "hostname", hostname).await?;
        }
        hostname.to_owned()
    };

    // The domain and its DKIM key.
    let key_dir = std::path::absolute(config.data_dir.join("dkim")).context("the DKIM key folder")?;
    let mut domain = match existing_domain {
        Some(d) => {
            notes.push(format!("domain {} already existed", d.name));
            d
        }
        None => domains::create(db, &domains::Domain::new(domain_name)).await?,
    };
    let has_key = !domain.dkim_selector.trim().is_empty()
        && !domain.dkim_private_key_file.trim().is_empty()
        && Path::new(domain.dkim_private_key_file.trim()).is_file();
    let public_key = if has_key {
        if selector != domain.dkim_selector.trim() {
            notes.push(format!(
                "the domain already has the DKIM key of selector {}: kept, no second key made",
                domain.dkim_selector.trim()
            ));
        } else {
            notes.push("the domain's DKIM key already existed: kept".to_owned());
        }
        let pem = std::fs::read(domain.dkim_private_key_file.trim())
            .with_context(|| format!("cannot read {}", domain.dkim_private_key_file.trim()))?;
        if domain.antispam_options & DKIM_SIGN == 0 {
            notes.push(format!(
                "DKIM signing is off for {} (`altimail domain set {} --dkim-sign yes` turns it on)",
                domain.name, domain.name
            ));
        }
        public_key_of(&pem).with_context(|| format!("the DKIM key {}", domain.dkim_private_key_file.trim()))?
    } else {
        let path = key_dir.join(format!("{}.{selector}.pem", domain.name.to_ascii_lowercase()));
        // A key file without a domain that uses it is left by an interrupted run or by a removed
        // domain of the same name: a usable one is taken, so running again always completes.
        let public = match std::fs::read(&path) {
            Ok(pem) => {
                let public = public_key_of(&pem).with_context(|| {
                    format!("{} exists but is not a usable key: move it away and run again", path.display())
                })?;
                notes.push(format!("the DKIM key {} that was already there is used", path.display()));
                public
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (pem, public) = generate_dkim_key()?;
                write_new_key(&path, pem.as_bytes())?;
                public
            }
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        domain.dkim_selector = selector.to_owned();
        domain.dkim_private_key_file = path.to_string_lossy().into_owned();
        domain.antispam_options |= DKIM_SIGN;
        domains::update(db, &domain).await?;
        public
    };

    // The account.
    let password = match existing_account {
        Some(a) => {
            notes.push(format!(
                "account {} already existed: its password is unchanged (`altimail account set {} --password-stdin` changes it)",
                a.address, a.address
            ));
            None
        }
        None => {
            let (password, generated) = match given_password {
                Some(p) => (p, false),
                None => (generate_password()?, true),
            };
            let mut a = accounts::Account::new(domain.id, address.as_str());
            a.set_password(store.password_scheme().await?, &password);
            accounts::create(db, &a).await?;
            generated.then_some(password)
        }
    };

    let all_ports = ports::list(db).await?;
    let clients = ClientSettings::from_ports(&hostname, &all_ports);
    // One entry per port number and security: a port listened on over IPv4 and IPv6 has a row
    // for each address.
    let mut http: Vec<&ports::Port> = Vec::new();
    for p in all_ports.iter().filter(|p| p.protocol == Protocol::Http) {
        if !http.iter().any(|q| q.port == p.port && q.security == p.security) {
            http.push(p);
        }
    }
    let records = dns_records(&domain.name, &hostname, &domain.dkim_selector, &public_key, &clients, &http);
    let mut autoconfig_urls = Vec::new();
    for p in &http {
        let scheme = if p.security == Security::Tls { "https" } else { "http" };
        let default = (scheme == "http" && p.port == 80) || (scheme == "https" && p.port == 443);
        let host_port = if default { hostname.clone() } else { format!("{hostname}:{}", p.port) };
        autoconfig_urls.push(format!("{scheme}://{host_port}/mail/config-v1.1.xml?emailaddress={address}"));
        autoconfig_urls.push(format!("{scheme}://{host_port}/autodiscover/autodiscover.xml (POST)"));
        if !default {
            notes.push(format!(
                "the web port {} is not {}: mail clients look for their settings on ports 80 and 443 only",
                p.port,
                if scheme == "http" { 80 } else { 443 }
            ));
        }
    }
    if http.is_empty() {
        notes.push(
            "no HTTP port is configured, so clients cannot fetch their settings \
             (`altimail port add --protocol http --port 80` adds one)"
                .to_owned(),
        );
    }
    let certificate = certificate_view(store, config, &all_ports).await?;
    // The web administration: a password for Administrator when there is none yet.
    let admin = altimail_admin::Admin::new(store.clone());
    let admin_password = crate::webadmin::ensure_administrator_password(&admin, "quickstart").await?;
    if admin_password.is_none() {
        notes.push(
            "the administrator password was already set: it is unchanged (`altimail admin password` changes it)"
                .to_owned(),
        );
    }
    if config.api_listen.is_none() {
        notes.push(
            "the web administration is off: add `[api] listen = \"8180\"` to altimail.toml and restart to reach it at http://127.0.0.1:8180/admin/"
                .to_owned(),
        );
    }
    let web_admin = WebAdminView {
        url: config.api_listen.map(crate::webadmin::admin_url),
        user: altimail_admin::ADMINISTRATOR,
        password: admin_password,
    };
    Ok(Report {
        hostname,
        domain: domain.name.clone(),
        address: address.to_string(),
        password,
        dkim_selector: domain.dkim_selector.trim().to_owned(),
        dkim_key_file: domain.dkim_private_key_file.trim().to_owned(),
        dns_records: records,
        clients: clients
            .endpoints()
            .map(|e| ClientView {
                protocol: match e.protocol {
                    Protocol::Smtp => "smtp (submission)",
                    Protocol::Pop3 => "pop3",
                    _ => "imap",
                },
                host: e.host.clone(),
                port: e.port,
                security: e.security_label(),
                login: address.to_string(),
            })
            .collect(),
        autoconfig_urls,
        certificate,
        web_admin,
        notes,
    })
}

/// A host or domain name that can have public DNS records: at least two labels of letters,
/// digits and hyphens.
fn check_dns_name(name: &str) -> anyhow::Result<()> {
    let labels: Vec<&str> = name.split('.').collect();
    let ok = name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if !ok {
        bail!("{name:?} is not a DNS name with at least two labels (such as example.com)");
    }
    Ok(())
}

/// A new 2048-bit RSA key (what every DKIM verifier accepts; Ed25519 is not yet verified
/// everywhere): the PKCS#8 PEM and the base64 public key for the `p=` tag.
fn generate_dkim_key() -> anyhow::Result<(String, String)> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).context("generating the DKIM key")?;
    let public = base64::engine::general_purpose::STANDARD.encode(rcgen::PublicKeyData::subject_public_key_info(&key));
    Ok((key.serialize_pem(), public))
}

/// The base64 public key of a PEM private key (RSA or Ed25519) for the `p=` tag.
pub(crate) fn public_key_of(pem: &[u8]) -> anyhow::Result<String> {
    let text = std::str::from_utf8(pem).context("not a PEM file")?;
    let key = rcgen::KeyPair::from_pem(text).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(rcgen::PublicKeyData::subject_public_key_info(&key)))
}

/// Writes a private key readable by its owner only; never replaces an existing file.
/// Writes the key whole or not at all: a temporary file (owner-only), synced, then renamed.
fn write_new_key(path: &Path, pem: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    // A leftover of an interrupted run could have other permissions: start afresh.
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    f.write_all(pem).and_then(|()| f.sync_all()).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot rename {} to {}", tmp.display(), path.display()))
}

/// 20 characters from an alphabet without look-alikes (about 114 bits).
pub(crate) fn generate_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut random = std::fs::File::open("/dev/urandom").context("opening /dev/urandom")?;
    let mut out = String::new();
    let mut buf = [0u8; 64];
    while out.len() < 20 {
        random.read_exact(&mut buf).context("reading /dev/urandom")?;
        for b in buf {
            // Rejection sampling: no bias towards the first letters.
            let limit = 256 - 256 % ALPHABET.len();
            if (b as usize) < limit && out.len() < 20 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    Ok(out)
}

/// The records that make mail to and from `domain` work and let clients find their settings.
pub fn dns_records(
    domain: &str,
    hostname: &str,
    selector: &str,
    dkim_public: &str,
    clients: &ClientSettings,
    http: &[&ports::Port],
) -> Vec<DnsRecord> {
    let d = format!("{domain}.");
    let h = format!("{hostname}.");
    let rec = |name: String, kind: &'static str, value: String, purpose: &str| DnsRecord {
        name,
        kind,
        value,
        purpose: purpose.to_owned(),
    };
    let mut v = vec![
        rec(
            h.clone(),
            "A",
            "<this server's public IPv4 address>".into(),
            "the mail host (and AAAA for its IPv6 address)",
        ),
        rec(d.clone(), "MX", format!("10 {h}"), "mail for the domain goes to this server"),
        rec(d.clone(), "TXT", "v=spf1 mx -all".into(), "SPF: only the domain's MX hosts send its mail"),
        rec(
            format!("{selector}._domainkey.{d}"),
            "TXT",
            format!("v=DKIM1; k=rsa; p={dkim_public}"),
            "DKIM: the public key of the server's signatures",
        ),
        rec(
            format!("_dmarc.{d}"),
            "TXT",
            "v=DMARC1; p=quarantine".into(),
            "DMARC: receivers quarantine mail that fails SPF and DKIM",
        ),
    ];
    if hostname != domain && !hostname.ends_with(&format!(".{domain}")) {
        v.push(rec(h.clone(), "TXT", "v=spf1 a -all".into(), "SPF for the host name itself (bounces)"));
    }
    if !http.is_empty() {
        v.push(rec(format!("autoconfig.{d}"), "CNAME", h.clone(), "Thunderbird's autoconfiguration"));
        v.push(rec(format!("autodiscover.{d}"), "CNAME", h.clone(), "Outlook's Autodiscover"));
        if let Some(https) = http.iter().filter(|p| p.security == Security::Tls).min_by_key(|p| p.port) {
            v.push(rec(
                format!("_autodiscover._tcp.{d}"),
                "SRV",
                format!("0 1 {} {h}", https.port),
                "Outlook's Autodiscover (HTTPS)",
            ));
        }
    }
    // RFC 6186 (and RFC 8314 for implicit TLS) service records.
    for e in clients.endpoints() {
        let service = match (e.protocol, e.security) {
            (Protocol::Imap, Security::Tls) => "_imaps",
            (Protocol::Imap, _) => "_imap",
            (Protocol::Pop3, Security::Tls) => "_pop3s",
            (Protocol::Pop3, _) => "_pop3",
            (Protocol::Smtp, Security::Tls) => "_submissions",
            (Protocol::Smtp, _) => "_submission",
            _ => continue,
        };
        v.push(rec(
            format!("{service}._tcp.{d}"),
            "SRV",
            format!("0 1 {} {h}", e.port),
            &format!("{} clients find the server (RFC 6186)", e.protocol.name().to_ascii_uppercase()),
        ));
    }
    v
}

async fn certificate_view(store: &Store, config: &Config, all: &[ports::Port]) -> anyhow::Result<CertificateView> {
    let tls: Vec<&ports::Port> = all.iter().filter(|p| p.security.uses_tls()).collect();
    let ids: Vec<String> = tls.iter().map(|p| p.id.to_string()).collect();
    let mut replace = vec![
        "altimail certificate add mail --cert /path/fullchain.pem --key /path/privkey.pem".to_owned(),
        format!(
            "altimail port set ID --certificate N   (N from `altimail certificate list`; for each TLS port ID: {})",
            if ids.is_empty() { "none".to_owned() } else { ids.join(", ") }
        ),
    ];
    replace.push("the server picks up the new certificate within a second; no restart".to_owned());
    let custom = tls.iter().find(|p| p.certificate_id != 0).map(|p| p.certificate_id);
    if let Some(id) = custom {
        let certs = altimail_store::repo::certificates::list(&store.db).await?;
        if let Some(c) = certs.iter().find(|c| c.id == id) {
            return Ok(CertificateView {
                certificate: c.certificate_file.clone(),
                key: c.private_key_file.clone(),
                self_signed: false,
                replace,
            });
        }
    }
    let dir: PathBuf = std::path::absolute(config.data_dir.join("certificates")).unwrap_or_default();
    let (cert, key) = altimail_net::tls::SELF_SIGNED_FILES;
    Ok(CertificateView {
        certificate: dir.join(cert).to_string_lossy().into_owned(),
        key: dir.join(key).to_string_lossy().into_owned(),
        self_signed: true,
        replace,
    })
}

fn print_text(r: &Report) {
    println!("Altimail is set up for {} (host name {}).", r.domain, r.hostname);
    println!();
    println!("Account");
    println!("  address   {}", r.address);
    println!("  login     {} (always the full address)", r.address);
    match &r.password {
        Some(p) => println!("  password  {p}   <- shown this once; keep it"),
        None => println!("  password  (the one given, or unchanged)"),
    }
    println!();
    println!("DNS records to publish (in your DNS provider's zone for {}):", r.domain);
    let width = r.dns_records.iter().map(|d| d.name.len()).max().unwrap_or(0);
    for d in &r.dns_records {
        // A TXT string holds at most 255 octets: longer values (the DKIM key) are written as
        // several strings, which DNS joins.
        let value = if d.kind == "TXT" {
            let chunks: Vec<String> =
                d.value.as_bytes().chunks(255).map(|c| format!("\"{}\"", String::from_utf8_lossy(c))).collect();
            chunks.join(" ")
        } else {
            d.value.clone()
        };
        println!("  {:<width$}  {:<5}  {value}", d.name, d.kind);
        println!("  {:<width$}         ; {}", "", d.purpose);
    }
    println!(
        "  Also ask your hosting provider to set the reverse DNS (PTR) of the server's addresses to {}.",
        r.hostname
    );
    println!();
    println!("Web administration");
    match &r.web_admin.url {
        Some(url) => println!("  address   {url}"),
        None => println!("  address   off until altimail.toml has [api] listen (see the notes)"),
    }
    println!("  user      {}", r.web_admin.user);
    match &r.web_admin.password {
        Some(p) => println!("  password  {p}   <- shown this once; keep it"),
        None => println!("  password  unchanged (`altimail admin password` sets it)"),
    }
    println!();
    println!("Mail client settings (login name: the full address):");
    for c in &r.clients {
        println!("  {:<18} {}  port {:<5} {}", c.protocol, c.host, c.port, c.security);
    }
    if !r.autoconfig_urls.is_empty() {
        println!("  Clients that support autoconfiguration find these by themselves:");
        for u in &r.autoconfig_urls {
            println!("    {u}");
        }
    }
    println!();
    println!("DKIM: mail from {} is signed with {} (selector {}).", r.domain, r.dkim_key_file, r.dkim_selector);
    println!();
    if r.certificate.self_signed {
        println!("TLS certificate: self-signed, made at the first start (clients warn until you replace it)");
    } else {
        println!("TLS certificate:");
    }
    println!("  certificate  {}", r.certificate.certificate);
    println!("  key          {}", r.certificate.key);
    println!("  To use a real one (from Let's Encrypt, for {}):", r.hostname);
    for step in &r.certificate.replace {
        println!("    {step}");
    }
    if !r.notes.is_empty() {
        println!();
        println!("Notes:");
        for n in &r.notes {
            println!("  - {n}");
        }
    }
    println!();
    println!("Start the server with `altimail serve` (a running server picks these changes up within a second).");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        for ok in ["example.com", "mail.example.co.uk", "a-b.test"] {
            assert!(check_dns_name(ok).is_ok(), "{ok}");
        }
        for bad in ["localhost", "", "example..com", "-a.com", "a_b.com", "[127.0.0.1]", "ex ample.com"] {
            assert!(check_dns_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn generated_passwords_are_long_and_differ() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.chars().count(), 20);
        assert_ne!(a, b);
    }

    #[test]
    fn the_public_key_of_a_generated_key_is_the_one_printed() {
        let (pem, public) = generate_dkim_key().unwrap();
        assert_eq!(public_key_of(pem.as_bytes()).unwrap(), public);
        assert!(pem.contains("BEGIN PRIVATE KEY"));
    }
}
