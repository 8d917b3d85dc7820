//! Recipient resolution sends no statement: accounts, aliases, lists with their members and
//! unknown addresses are all answered from the store's directory index. In a test binary of its
//! own: a write to a directory table anywhere in the process makes the next lookup check the
//! database first, so tests running alongside would disturb this one.

mod resolve_support;

use altimail_core::codes::ListMode;
use altimail_delivery::resolve::{self, Sender};
use altimail_store::Db;

use resolve_support::{engines, reply};

/// The "Internet" range's options: external senders may send to local recipients.
const INTERNET: i64 = 96203;

async fn rcpt(db: &Db, to: &str) -> String {
    reply(&resolve::rcpt(db, INTERNET, &Sender::new("someone@remote.test", None), to).await)
}

/// Accounts, aliases, lists with their members and unknown addresses are all answered from the
/// directory index: with the database closed, a resolution made within `REFRESH` of the last
/// check still gets the same answers (any statement would fail it with a temporary error).
#[tokio::test]
async fn resolution_sends_no_statement() {
    for env in engines("ri_no_sql").await {
        let e = env.engine;
        let d = env.domain("example.com").await;
        env.account(&d, "user@example.com").await;
        env.account(&d, "member@example.com").await;
        env.alias(&d, "alias@example.com", "user@example.com").await;
        env.list(&d, "team@example.com", ListMode::Public, &["member@example.com", "user@example.com"]).await;
        let cases = [
            ("user@example.com", "accepted"),
            ("alias@example.com", "accepted"),
            ("team@example.com", "accepted"),
            ("nobody@example.com", "550"),
        ];
        // The first RCPT checks the index against the database; the next ones are within REFRESH.
        assert!(rcpt(env.db(), "user@example.com").await.starts_with("accepted"), "{e}");
        env.db().close().await;
        for (to, want) in cases {
            let got = rcpt(env.db(), to).await;
            assert!(got.starts_with(want), "{e}: {to}: {got}");
        }
        env.finish().await;
    }
}
