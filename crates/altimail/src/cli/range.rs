//! `altimail range …` (IP ranges / security ranges), through the administration service.

use std::net::IpAddr;

use clap::Subcommand;

use altimail_admin::{Admin, NewRange, RangeChanges, range_options};
use altimail_store::Store;

use super::output::{Output, yes_no};
use super::parse_bool;

#[derive(Debug, Subcommand)]
pub enum RangeCmd {
    /// Add an IP range.
    Add {
        /// The range's name (unique; names starting with "Auto-ban:" are auto-ban's).
        name: String,
        /// Lowest address of the range (IPv4 or IPv6).
        #[arg(long)]
        lower: IpAddr,
        /// Upper address (default: the lower one, a single address).
        #[arg(long)]
        upper: Option<IpAddr>,
        /// Higher wins where ranges overlap.
        #[arg(long, default_value_t = 20)]
        priority: i64,
        /// Comma-separated options, e.g. smtp,pop3,imap,relay-local-to-remote (see `range options`).
        #[arg(long, value_delimiter = ',')]
        allow: Vec<String>,
        /// The option bit mask as a number (instead of --allow).
        #[arg(long, conflicts_with = "allow")]
        options: Option<i64>,
        /// Delete the range at this local time (YYYY-MM-DD HH:MM).
        #[arg(long, value_name = "TIME")]
        expires: Option<String>,
        /// Trust the range: auto-ban never bans its clients (adds it to altimailtrustedranges).
        #[arg(long)]
        trusted: bool,
    },
    /// List IP ranges, highest priority first.
    List,
    /// Show one range.
    Show {
        /// The range's name.
        name: String,
    },
    /// Change a range.
    Set {
        /// The range's name.
        name: String,
        /// New lowest address.
        #[arg(long)]
        lower: Option<IpAddr>,
        /// New highest address.
        #[arg(long)]
        upper: Option<IpAddr>,
        /// New priority (higher wins where ranges overlap).
        #[arg(long)]
        priority: Option<i64>,
        /// Options to switch on (comma-separated names).
        #[arg(long, value_delimiter = ',')]
        allow: Vec<String>,
        /// Options to switch off (comma-separated names).
        #[arg(long, value_delimiter = ',')]
        deny: Vec<String>,
        /// The whole option bit mask as a number (applied before --allow and --deny).
        #[arg(long)]
        options: Option<i64>,
        /// Expiry time (YYYY-MM-DD HH:MM), or "never".
        #[arg(long, value_name = "TIME")]
        expires: Option<String>,
        /// Whether auto-ban spares the range's clients (yes/no; kept in altimailtrustedranges).
        #[arg(long, value_parser = parse_bool)]
        trusted: Option<bool>,
    },
    /// Remove a range.
    Remove {
        /// The range's name.
        name: String,
    },
    /// List the option names.
    Options,
}

pub async fn run(cmd: RangeCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let admin = Admin::new(store.clone());
    let me = super::caller();
    match cmd {
        RangeCmd::Add { name, lower, upper, priority, allow, options, expires, trusted } => {
            let new = NewRange { name, lower, upper, priority, allow, options, expires, trusted };
            let view = admin.create_range(&me, &new).await?;
            out.done(&format!("IP range {} added", view.range.name), &view)
        }
        RangeCmd::List => {
            let all = admin.list_ranges(&me).await?;
            let rows = all
                .iter()
                .map(|v| {
                    let r = &v.range;
                    let exp = if r.expires { r.expires_time.format("%Y-%m-%d %H:%M").to_string() } else { "-".into() };
                    vec![
                        r.name.clone(),
                        r.priority.to_string(),
                        r.lower.to_string(),
                        r.upper.to_string(),
                        v.allows.join(","),
                        yes_no(v.trusted),
                        exp,
                    ]
                })
                .collect();
            out.table(&all, &["NAME", "PRIORITY", "LOWER", "UPPER", "ALLOWS", "TRUSTED", "EXPIRES-TIME"], rows)
        }
        RangeCmd::Show { name } => out.object(&admin.get_range(&me, &name).await?),
        RangeCmd::Set { name, lower, upper, priority, allow, deny, options, expires, trusted } => {
            let changes = RangeChanges { lower, upper, priority, options, allow, deny, expires, trusted };
            let view = admin.update_range(&me, &name, &changes).await?;
            out.done(&format!("IP range {} updated", view.range.name), &view)
        }
        RangeCmd::Remove { name } => {
            let view = admin.delete_range(&me, &name).await?;
            out.done(&format!("IP range {} removed", view.range.name), &view)
        }
        RangeCmd::Options => {
            let all = range_options();
            let rows = all.iter().map(|o| vec![o.name.to_string(), o.bit.to_string()]).collect();
            let names: Vec<&str> = all.iter().map(|o| o.name).collect();
            out.table(&names, &["OPTION", "BIT"], rows)
        }
    }
}
