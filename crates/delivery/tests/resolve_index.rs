//! Recipient resolution reads domains, accounts and routes from the store's directory index:
//! on every engine, a removed or deactivated account stops receiving at once when this process
//! removes it, and within `REFRESH` (a second) when another process does; aliases and lists
//! likewise.

mod resolve_support;

use std::time::{Duration, Instant};

use altimail_core::codes::ListMode;
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

#[tokio::test]
async fn a_removed_alias_stops_resolving_within_a_second() {
    for env in engines("ri_alias").await {
        let e = env.engine;
        let d = env.domain("example.com").await;
        env.account(&d, "target@example.com").await;
        let here = env.alias(&d, "here@example.com", "target@example.com").await;
        let there = env.alias(&d, "there@example.com", "target@example.com").await;
        let idle = env.alias(&d, "idle@example.com", "target@example.com").await;
        for to in ["here@example.com", "there@example.com", "idle@example.com"] {
            assert!(rcpt(env.db(), to).await.starts_with("accepted"), "{e}: {to}");
        }

        // Removed by this process: refused at the next RCPT.
        altimail_store::repo::aliases::delete(env.db(), here.id).await.unwrap();
        assert!(rcpt(env.db(), "here@example.com").await.starts_with("550"), "{e}");

        // Removed or deactivated by another process: within REFRESH.
        external(&env, "DELETE FROM hm_aliases WHERE aliasid = ?", there.id).await;
        let took = refused_within_refresh(&env, "there@example.com", "550").await;
        eprintln!("{e}: alias removed by another process refused after {took:?}");
        external(&env, "UPDATE hm_aliases SET aliasactive = 0 WHERE aliasid = ?", idle.id).await;
        refused_within_refresh(&env, "idle@example.com", "550").await;
        env.finish().await;
    }
}

#[tokio::test]
async fn list_changes_of_another_process_are_seen_within_a_second() {
    for env in engines("ri_list").await {
        let e = env.engine;
        let d = env.domain("example.com").await;
        let a = env.account(&d, "a@example.com").await;
        let b = env.account(&d, "b@example.com").await;
        let list = env.list(&d, "team@example.com", ListMode::Public, &["a@example.com"]).await;
        let to_list = async || {
            resolve::rcpt(env.db(), INTERNET, &Sender::new("someone@remote.test", None), "team@example.com")
                .await
                .map(|r| r.recipients.iter().map(|r| r.account_id).collect::<Vec<_>>())
        };
        assert_eq!(to_list().await.unwrap(), [a.id], "{e}");

        // A member added by another process receives within REFRESH.
        env.db()
            .execute(
                "/* another process */ INSERT INTO hm_distributionlistsrecipients \
                 (distributionlistrecipientlistid, distributionlistrecipientaddress) VALUES (?, ?)",
                &[list.id.into(), "b@example.com".into()],
            )
            .await
            .unwrap();
        let start = Instant::now();
        while to_list().await.unwrap() != [a.id, b.id] {
            assert!(start.elapsed() < REFRESH + Duration::from_secs(1), "{e}: new member not seen");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        eprintln!("{e}: list member added by another process receives after {:?}", start.elapsed());

        // Disabled by another process: refused within REFRESH.
        external(
            &env,
            "UPDATE hm_distributionlists SET distributionlistenabled = 0 WHERE distributionlistid = ?",
            list.id,
        )
        .await;
        refused_within_refresh(&env, "team@example.com", "550").await;
        env.finish().await;
    }
}

#[tokio::test]
async fn a_rename_by_another_altimail_process_is_seen_within_a_second() {
    for env in engines("ri_rename").await {
        let e = env.engine;
        let d = env.domain("example.com").await;
        let bob = env.account(&d, "bob@example.com").await;
        assert!(rcpt(env.db(), "bob@example.com").await.starts_with("accepted"), "{e}");
        assert!(rcpt(env.db(), "tom@example.com").await.starts_with("550"), "{e}");

        // Same length, same domain, same id: no checksum moves. The other process bumps the
        // directory version, and that alone makes this one read the directory again.
        let other = env.another_process().await;
        other
            .db
            .execute(
                "UPDATE hm_accounts SET accountaddress = ? WHERE accountid = ?",
                &["tom@example.com".into(), bob.id.into()],
            )
            .await
            .unwrap();
        let took = refused_within_refresh(&env, "bob@example.com", "550").await;
        eprintln!("{e}: account renamed by another Altimail process seen after {took:?}");
        assert!(rcpt(env.db(), "tom@example.com").await.starts_with("accepted"), "{e}");
        other.db.close().await;
        env.finish().await;
    }
}
