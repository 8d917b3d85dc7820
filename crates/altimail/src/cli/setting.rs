//! `altimail setting …`

use anyhow::bail;
use clap::Subcommand;

use altimail_store::Store;
use altimail_store::repo::settings;

use super::output::Output;

#[derive(Debug, Subcommand)]
pub enum SettingCmd {
    /// List all settings.
    List,
    /// Show one setting.
    Get {
        /// The setting's name (case does not matter).
        name: String,
    },
    /// Change a setting. A number sets the integer value, anything else the string value.
    Set {
        /// The setting's name (case does not matter).
        name: String,
        /// The new value.
        value: String,
        /// Store VALUE as the string value even if it is a number.
        #[arg(long, conflicts_with = "integer")]
        string: bool,
        /// Store VALUE as the integer value (it must be a number).
        #[arg(long)]
        integer: bool,
        /// Allow a name that is neither stored nor one of hMailServer's settings.
        #[arg(long)]
        create: bool,
    },
}

pub async fn run(cmd: SettingCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    match cmd {
        SettingCmd::List => {
            let mut all: Vec<settings::Setting> = settings::all(db).await?.into_values().collect();
            all.sort_by_key(|s| s.name.to_ascii_lowercase());
            let rows = all.iter().map(|s| vec![s.name.clone(), s.integer.to_string(), s.string.clone()]).collect();
            out.table(&all, &["NAME", "INTEGER", "STRING"], rows)
        }
        SettingCmd::Get { name } => match settings::get(db, &name).await? {
            Some(s) => out.object(&s),
            None => bail!("no setting {name}"),
        },
        SettingCmd::Set { name, value, string, integer, create } => {
            let known = settings::get(db, &name).await?.is_some()
                || altimail_store::schema::default_setting(&name).is_some()
                || name.eq_ignore_ascii_case(altimail_store::SETTING_KEEP_SHA256_PASSWORDS);
            if !known && !create {
                bail!("no setting {name} (use --create to add a new one)");
            }
            let number = value.trim().parse::<i64>();
            // A setting hMailServer keeps as a number (its default is a non-zero integer and no
            // text) takes only a number, unless --string says otherwise.
            let numeric =
                matches!(altimail_store::schema::default_setting(&name), Some((text, n)) if text.is_empty() && n != 0);
            if numeric && !string && number.is_err() {
                bail!("setting {name} takes a number, not {value:?}");
            }
            if integer || (!string && number.is_ok()) {
                let Ok(n) = number else { bail!("{value:?} is not a number") };
                settings::set_integer(db, &name, n).await?;
            } else {
                settings::set_string(db, &name, &value).await?;
            }
            let s = settings::get(db, &name).await?;
            out.done(&format!("setting {name} = {value}"), &s)
        }
    }
}
