//! Scoring and learning against the database on every engine, and a rough measure of what
//! scoring costs (`cargo test -p altimail-antispam --test bayes_db -- --ignored --nocapture`).

use std::time::Instant;

use altimail_antispam::bayes::{self, BayesSettings};
use altimail_store::Store;
use altimail_store::repo::bayes::{Class, GLOBAL};
use altimail_testkit::backends;

/// A message of about `size` bytes from a vocabulary: spam words or ham words, with noise.
fn message(k: usize, spam: bool, size: usize) -> Vec<u8> {
    let words: &[&str] = if spam {
        &["cheap", "pills", "viagra", "winner", "lottery", "click", "offer", "casino", "bonus", "free"]
    } else {
        &["meeting", "project", "report", "tuesday", "minutes", "agenda", "budget", "review", "team", "lunch"]
    };
    let mut body = String::new();
    let mut n = k.wrapping_mul(2_654_435_761);
    while body.len() < size {
        n = n.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        body.push_str(words[(n >> 33) % words.len()]);
        body.push(' ');
        body.push_str(&format!("w{} ", (n >> 20) % 50_000));
    }
    format!(
        "From: <s{k}@remote.test>\r\nSubject: message {k}\r\nMessage-ID: <{k}.{spam}@remote.test>\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn settings() -> BayesSettings {
    BayesSettings { enabled: true, per_domain: false, score: 5, threshold_percent: 90, min_messages: 5 }
}

#[tokio::test]
async fn a_trained_table_scores_spam_and_passes_ham() {
    for db in backends("bayes_score").await {
        let e = db.engine;
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let probe = message(999, true, 2000);
        assert_eq!(bayes::score(&store.db, &settings(), 1, &probe).await.unwrap(), None, "{e}: untrained");
        for k in 0..6 {
            bayes::learn(&store.db, GLOBAL, &message(k, true, 2000), Class::Spam).await.unwrap();
            bayes::learn(&store.db, GLOBAL, &message(k, false, 2000), Class::Ham).await.unwrap();
        }
        let finding = bayes::score(&store.db, &settings(), 1, &probe).await.unwrap().expect("spam found");
        assert_eq!((finding.test, finding.score), ("Bayes", 5), "{e}");
        assert!(finding.reason.starts_with("Bayesian filter: spam probability "), "{e}: {}", finding.reason);
        let ham = message(998, false, 2000);
        assert_eq!(bayes::score(&store.db, &settings(), 1, &ham).await.unwrap(), None, "{e}");
        let p = bayes::probability(&store.db, GLOBAL, 5, &ham).await.unwrap().unwrap();
        assert!(p < 0.1, "{e}: {p}");
        let off = BayesSettings { enabled: false, ..settings() };
        assert_eq!(bayes::score(&store.db, &off, 1, &probe).await.unwrap(), None, "{e}: off");
        let per_domain = BayesSettings { per_domain: true, ..settings() };
        assert_eq!(bayes::score(&store.db, &per_domain, 1, &probe).await.unwrap(), None, "{e}: domain table empty");
        store.db.close().await;
        db.cleanup().await;
    }
}

#[tokio::test]
#[ignore = "a measurement, not a test"]
async fn cost_of_scoring_a_10_kb_message() {
    for db in backends("bayes_bench").await {
        let e = db.engine;
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let started = Instant::now();
        for k in 0..200 {
            bayes::learn(&store.db, GLOBAL, &message(k, true, 10_000), Class::Spam).await.unwrap();
            bayes::learn(&store.db, GLOBAL, &message(k, false, 10_000), Class::Ham).await.unwrap();
        }
        let learn = started.elapsed() / 400;
        let tokens = altimail_store::repo::bayes::status(&store.db).await.unwrap()[0].tokens;
        let probe = message(5000, true, 10_000);
        let runs = 50;
        let started = Instant::now();
        for _ in 0..runs {
            bayes::score(&store.db, &settings(), 1, &probe).await.unwrap();
        }
        let score = started.elapsed() / runs;
        let hashes: Vec<i64> = bayes::tokenize(&probe).iter().map(|t| bayes::token_hash(t)).collect();
        let started = Instant::now();
        for _ in 0..runs {
            altimail_store::repo::bayes::token_counts(&store.db, GLOBAL, &hashes).await.unwrap();
        }
        let lookup = started.elapsed() / runs;
        let started = Instant::now();
        for _ in 0..runs {
            altimail_store::repo::bayes::counts(&store.db, GLOBAL).await.unwrap();
        }
        let counts = started.elapsed() / runs;
        let started = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(bayes::tokenize(&probe));
        }
        let tokenize = started.elapsed() / runs;
        println!(
            "{e}: {tokens} tokens in the table; learning a 10 KB message {learn:?}; scoring one {score:?} \
             (of which tokenizing {tokenize:?}, {} tokens; looking them up {lookup:?}; the class counts {counts:?})",
            bayes::tokenize(&probe).len()
        );
        store.db.close().await;
        db.cleanup().await;
    }
}
