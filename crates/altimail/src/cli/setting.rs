//! `altimail setting …`

use anyhow::bail;
use clap::Subcommand;

use altimail_admin::{Admin, SettingsChanges};
use altimail_store::Store;
use altimail_store::repo::settings;

use super::output::Output;
use super::parse_bool;

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
    /// Show the settings by area (protocols, delivery, smart-host, anti-spam, anti-virus,
    /// logging, auto-ban), as the REST API's /api/v1/settings.
    Show {
        /// Only this area.
        area: Option<String>,
    },
    /// Change settings of one area, checked by the same rules as the REST API:
    /// `altimail setting update delivery retries=6 verify_remote_certificate=no`.
    Update {
        /// protocols, delivery, smart-host, anti-spam, anti-virus, logging or auto-ban.
        area: String,
        /// FIELD=VALUE pairs (field names as `setting show` prints them).
        #[arg(required = true, value_name = "FIELD=VALUE")]
        values: Vec<String>,
    },
    /// Set the smart host's password (stored encrypted as hMailServer does; "" clears it).
    SmartHostPassword {
        /// The password.
        password: String,
    },
    /// List the server messages (texts of bounces and notices).
    Messages,
    /// Change the text of a server message.
    Message {
        /// The message's name, e.g. SEND_FAILED_NOTIFICATION.
        name: String,
        /// The new text.
        text: String,
    },
}

/// The JSON key of an area, from its name on the command line (`smart-host` or `smart_host`).
fn area_key(area: &str) -> anyhow::Result<String> {
    let key = area.trim().to_ascii_lowercase().replace('-', "_");
    const AREAS: [&str; 7] = ["protocols", "delivery", "smart_host", "anti_spam", "anti_virus", "logging", "auto_ban"];
    if !AREAS.contains(&key.as_str()) {
        bail!(
            "unknown settings area {area:?}: expected protocols, delivery, smart-host, anti-spam, anti-virus, logging or auto-ban"
        );
    }
    Ok(key)
}

/// A value typed on the command line as JSON: yes/no as a boolean, a number as a number, the
/// rest as text (the service's types decide whether it fits).
fn typed(value: &str) -> serde_json::Value {
    match parse_bool(value) {
        Ok(b) if !value.trim().chars().all(|c| c.is_ascii_digit()) => serde_json::Value::Bool(b),
        _ => match value.trim().parse::<i64>() {
            Ok(n) => serde_json::Value::from(n),
            Err(_) => serde_json::Value::from(value),
        },
    }
}

pub async fn run(cmd: SettingCmd, store: &Store, out: &Output) -> anyhow::Result<()> {
    let db = &store.db;
    let admin = Admin::new(store.clone());
    let me = super::caller();
    match cmd {
        SettingCmd::Show { area } => {
            let all = serde_json::to_value(admin.get_settings(&me).await?)?;
            match area {
                Some(a) => out.object(&all[area_key(&a)?.as_str()]),
                None => out.object(&all),
            }
        }
        SettingCmd::Update { area, values } => {
            let key = area_key(&area)?;
            let mut fields = serde_json::Map::new();
            for pair in &values {
                let Some((field, value)) = pair.split_once('=') else { bail!("{pair:?}: expected FIELD=VALUE") };
                fields.insert(field.trim().replace('-', "_"), typed(value));
            }
            let mut changes = serde_json::Map::new();
            changes.insert(key.clone(), serde_json::Value::Object(fields));
            let changes: SettingsChanges = serde_json::from_value(serde_json::Value::Object(changes))
                .map_err(|e| anyhow::anyhow!("settings area {area}: {e}"))?;
            let all = serde_json::to_value(admin.update_settings(&me, &changes).await?)?;
            out.done(&format!("settings of {area} updated"), &all[key.as_str()])
        }
        SettingCmd::SmartHostPassword { password } => {
            let changes = SettingsChanges { smart_host_password: Some(password), ..Default::default() };
            let all = admin.update_settings(&me, &changes).await?;
            out.done("smart host password set", &all.smart_host)
        }
        SettingCmd::Messages => {
            let all = admin.list_server_messages(&me).await?;
            let rows = all.iter().map(|m| vec![m.name.clone(), m.text.replace(['\r', '\n'], " ")]).collect();
            out.table(&all, &["NAME", "TEXT"], rows)
        }
        SettingCmd::Message { name, text } => {
            let m = admin.set_server_message(&me, &name, &text).await?;
            out.done(&format!("server message {} updated", m.name), &m)
        }
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
