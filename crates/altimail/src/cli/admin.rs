//! `altimail admin …`: the administration's own settings.

use anyhow::bail;
use clap::Subcommand;

use altimail_admin::Admin;
use altimail_store::Store;

use super::account::PasswordArgs;
use super::output::{Output, emit};

#[derive(Debug, Subcommand)]
pub enum AdminCmd {
    /// Set the administrator password: logging on to the REST API as `Administrator` (as in
    /// hMailServer's Authenticate) needs it. Until it is set such logons are refused.
    Password {
        #[command(flatten)]
        password: PasswordArgs,
    },
}

pub async fn run(cmd: AdminCmd, store: &Store, _out: &Output) -> anyhow::Result<()> {
    let admin = Admin::new(store.clone());
    match cmd {
        AdminCmd::Password { password } => {
            let Some(p) = password.read()? else { bail!("give --password-stdin or --password") };
            admin.set_administrator_password(&super::caller(), &p).await?;
            emit("administrator password set")
        }
    }
}
