//! Recipient resolution reads domains, accounts and routes from the store's directory index:
//! on every engine, a removed or deactivated account stops receiving at once when this process
//! removes it, and within `REFRESH` (a second) when another process does.

mod resolve_support;

use std::time::{Duration, Instant};

use altimail_delivery::resolve::{self, Sender};
use altimail_store::Db;
use altimail_store::directory_index::REFRESH;
use altimail_store::repo::accounts;

use resolve_support::{Env, engines, reply};

/// The "Internet" range's options: external senders may send to local recipients.
const INTERNET: i64 = 96203;

async fn rcpt(db: &Db, to: &str) -> String {
    reply(&resolve::rcpt(db, INTERNET, &Sender::new("someone@remote.test", None), to).await)
}

/// Runs `sql` as another process would: the leading comment hides it from the SQL layer's
/// notice of directory writes.
async fn external(env: &Env, sql: &str, id: i64) {
    env.db().execute(&format!("/* another process */ {sql}"), &[id.into()]).await.unwrap();
}

/// Waits until RCPT to `to` gives a reply starting with `want`, at most `REFRESH` + 1 s.
async fn refused_within_refresh(env: &Env, to: &str, want: &str) -> Duration {
    let start = Instant::now();
    loop {
        let got = rcpt(env.db(), to).await;
        if got.starts_with(want) {
            return start.elapsed();
        }
        assert!(start.elapsed() < REFRESH + Duration::from_secs(1), "{}: {to}: still {got}", env.engine);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_removed_account_stops_receiving_within_a_second() {
    for env in engines("ri_removed").await {
        let e = env.engine;
        let d = env.domain("example.com").await;
        let here = env.account(&d, "here@example.com").await;
        let there = env.account(&d, "there@example.com").await;
        let idle = env.account(&d, "idle@example.com").await;
        for to in ["here@example.com", "there@example.com", "idle@example.com"] {
            assert!(rcpt(env.db(), to).await.starts_with("accepted"), "{e}: {to}");
        }

        // Removed by this process: refused at the next RCPT.
        accounts::delete(env.db(), here.id).await.unwrap();
        assert!(rcpt(env.db(), "here@example.com").await.starts_with("550"), "{e}");

        // Removed or deactivated by another process (the CLI, hMailServer): within REFRESH.
        external(&env, "DELETE FROM hm_accounts WHERE accountid = ?", there.id).await;
        let took = refused_within_refresh(&env, "there@example.com", "550").await;
        eprintln!("{e}: account removed by another process refused after {took:?}");
        external(&env, "UPDATE hm_accounts SET accountactive = 0 WHERE accountid = ?", idle.id).await;
        refused_within_refresh(&env, "idle@example.com", "550").await;

        // A domain deactivated by another process.
        let other = env.account(&d, "other@example.com").await;
        assert!(rcpt(env.db(), "other@example.com").await.starts_with("accepted"), "{e}: {other:?}");
        external(&env, "UPDATE hm_domains SET domainactive = 0 WHERE domainid = ?", d.id).await;
        refused_within_refresh(&env, "other@example.com", "550").await;
        env.finish().await;
    }
}
