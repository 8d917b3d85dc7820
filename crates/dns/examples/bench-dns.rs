//! The test DNS server ([`altimail_dns::testdns`]) as a program, for benches/antispam-throughput.sh:
//! authoritative for the root on one address (UDP and TCP), serving the records given on the
//! command line; every other name gets NXDOMAIN. Not part of the release binary.
//!
//! ```text
//! cargo run --release -p altimail-dns --example bench-dns -- 127.0.0.77:53 \
//!     'txt:sender.test=v=spf1 ip4:127.0.0.0/8 -all' a:host.test=192.0.2.1 mx:sender.test=host.test
//! ```
//!
//! Prints `listening on ADDRESS` once it serves, then runs until it is killed.

use std::net::SocketAddr;
use std::process::ExitCode;

use altimail_dns::testdns::{TestDns, Zone};

const USAGE: &str = "usage: bench-dns ADDRESS:PORT [txt:NAME=TEXT | a:NAME=IP | mx:DOMAIN=HOST | ptr:IP=HOST]...";

/// Adds one `kind:name=value` record to `zone`.
fn add(zone: Zone, record: &str) -> Result<Zone, String> {
    let (kind, rest) = record.split_once(':').ok_or_else(|| format!("no kind in '{record}'"))?;
    let (name, value) = rest.split_once('=').ok_or_else(|| format!("no '=' in '{record}'"))?;
    Ok(match kind {
        "txt" => zone.txt(name, value),
        "a" => zone.ip(name, value),
        "mx" => zone.mx(name, 10, value),
        "ptr" => zone.ptr(name, value),
        _ => return Err(format!("unknown record kind '{kind}' in '{record}'")),
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(addr) = args.next().and_then(|a| a.parse::<SocketAddr>().ok()) else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let mut zone = Zone::new();
    for record in args {
        zone = match add(zone, &record) {
            Ok(zone) => zone,
            Err(e) => {
                eprintln!("bench-dns: {e}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
    }
    let dns = match TestDns::start_on(zone, addr).await {
        Ok(dns) => dns,
        Err(e) => {
            eprintln!("bench-dns: cannot serve on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", dns.addr);
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
