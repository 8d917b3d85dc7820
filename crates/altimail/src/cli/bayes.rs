//! `altimail bayes …`: what the Bayesian filter has learnt; teaching it from message files;
//! forgetting.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{ArgGroup, Args, Subcommand};
use serde::Serialize;

use altimail_antispam::bayes::{self as filter, MAX_SCAN_BYTES};
use altimail_store::Store;
use altimail_store::repo::bayes::{self, Class, Learnt};
use altimail_store::repo::domains;

use super::output::Output;

#[derive(Debug, Subcommand)]
pub enum BayesCmd {
    /// Messages learnt as spam and as ham, and tokens kept, per table (global or per domain).
    Status,
    /// Learn message files (RFC 5322, as stored) as spam or as ham.
    Train(TrainArgs),
    /// Forget everything learnt, or only a domain's table.
    Reset {
        /// The domain whose table to empty (default: every table).
        #[arg(long)]
        domain: Option<String>,
    },
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("class").required(true).args(["spam", "ham"])))]
pub struct TrainArgs {
    /// The files are spam.
    #[arg(long)]
    spam: bool,
    /// The files are not spam.
    #[arg(long)]
    ham: bool,
    /// Learn into this domain's table (used when `altimailbayesperdomain` is 1) instead of the
    /// global one.
    #[arg(long)]
    domain: Option<String>,
    /// Messages to learn, one file each (`.eml`, as stored in the data folder).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// One table as `bayes status` shows it.
#[derive(Debug, Serialize)]
struct Table {
    /// 0 for the global table, else the domain's id.
    scope: i64,
    /// The domain's name, or "(global)".
    name: String,
    spam: i64,
    ham: i64,
    tokens: i64,
}

/// What `bayes train` did with the files.
#[derive(Debug, Default, Serialize)]
struct Trained {
    learnt: usize,
    moved: usize,
    unchanged: usize,
}

async fn scope_of(store: &Store, domain: Option<&str>) -> anyhow::Result<i64> {
    match domain {
        None => Ok(bayes::GLOBAL),
        Some(name) => match domains::find(&store.db, name).await? {
            Some(d) => Ok(d.id),
            None => bail!("no domain {name:?}"),
        },
    }
}

pub async fn run(cmd: BayesCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        BayesCmd::Status => {
            let names = domains::list(db).await?;
            let tables: Vec<Table> = bayes::status(db)
                .await?
                .into_iter()
                .map(|s| Table {
                    scope: s.scope,
                    name: if s.scope == bayes::GLOBAL {
                        "(global)".to_owned()
                    } else {
                        names
                            .iter()
                            .find(|d| d.id == s.scope)
                            .map_or_else(|| format!("(domain {})", s.scope), |d| d.name.clone())
                    },
                    spam: s.messages.spam,
                    ham: s.messages.ham,
                    tokens: s.tokens,
                })
                .collect();
            let rows = tables
                .iter()
                .map(|t| vec![t.name.clone(), t.spam.to_string(), t.ham.to_string(), t.tokens.to_string()])
                .collect();
            out.table(&tables, &["TABLE", "SPAM", "HAM", "TOKENS"], rows)
        }
        BayesCmd::Train(args) => {
            let scope = scope_of(store, args.domain.as_deref()).await?;
            let class = if args.spam { Class::Spam } else { Class::Ham };
            let mut trained = Trained::default();
            for path in &args.files {
                let raw = read_head(path).with_context(|| format!("reading {}", path.display()))?;
                match filter::learn(db, scope, &raw, class).await? {
                    Learnt::New => trained.learnt += 1,
                    Learnt::Moved => trained.moved += 1,
                    Learnt::Unchanged => trained.unchanged += 1,
                }
            }
            let what = if args.spam { "spam" } else { "ham" };
            out.done(
                &format!(
                    "learnt {} message(s) as {what} ({} moved from the other class, {} already learnt)",
                    trained.learnt + trained.moved,
                    trained.moved,
                    trained.unchanged
                ),
                &trained,
            )
        }
        BayesCmd::Reset { domain } => {
            let scope = match domain.as_deref() {
                Some(name) => Some(scope_of(store, Some(name)).await?),
                None => None,
            };
            bayes::reset(db, scope).await?;
            let message = match domain {
                Some(d) => format!("forgot what the Bayesian filter learnt for {d}"),
                None => "forgot everything the Bayesian filter learnt".to_owned(),
            };
            out.done(&message, &serde_json::json!({ "reset": true }))
        }
    }
}

/// The part of a message file the filter reads.
fn read_head(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut buf = Vec::new();
    std::fs::File::open(path)?.take(MAX_SCAN_BYTES as u64).read_to_end(&mut buf)?;
    Ok(buf)
}
