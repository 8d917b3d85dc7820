//! The Bayesian filter's tables on every engine: batched counting, learning a message once,
//! moving it to the other class, status and reset.

use altimail_store::Store;
use altimail_store::repo::bayes::{self, Class, Counts, GLOBAL, Learnt};
use altimail_testkit::backends;

#[tokio::test]
async fn learning_counts_each_message_once_and_moves_it_between_classes() {
    for db in backends("bayes_learn").await {
        let e = db.engine;
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let db_ = &store.db;

        // More tokens than one batch, with negative hashes and a duplicate.
        let mut spam_tokens: Vec<i64> = (0..600).map(|i| i * 7919 - 1_000_000).collect();
        spam_tokens.push(i64::MIN);
        spam_tokens.push(spam_tokens[0]);
        let ham_tokens: Vec<i64> = vec![1, 2, 3, spam_tokens[5]];

        assert_eq!(bayes::learn(db_, GLOBAL, 42, &spam_tokens, Class::Spam, 1).await.unwrap(), Learnt::New, "{e}");
        assert_eq!(
            bayes::learn(db_, GLOBAL, 42, &spam_tokens, Class::Spam, 2).await.unwrap(),
            Learnt::Unchanged,
            "{e}"
        );
        assert_eq!(bayes::learn(db_, GLOBAL, 43, &ham_tokens, Class::Ham, 3).await.unwrap(), Learnt::New, "{e}");
        assert_eq!(bayes::counts(db_, GLOBAL).await.unwrap(), Counts { spam: 1, ham: 1 }, "{e}");
        assert_eq!(bayes::learnt_as(db_, GLOBAL, 42).await.unwrap(), Some(Class::Spam), "{e}");

        let looked_up: Vec<i64> = vec![spam_tokens[0], spam_tokens[5], i64::MIN, 1, 999];
        let found = bayes::token_counts(db_, GLOBAL, &looked_up).await.unwrap();
        assert_eq!(found.len(), 4, "{e}: unknown tokens are absent");
        assert_eq!(found[&spam_tokens[0]], Counts { spam: 1, ham: 0 }, "{e}: a duplicate counts once");
        assert_eq!(found[&spam_tokens[5]], Counts { spam: 1, ham: 1 }, "{e}");
        assert_eq!(found[&i64::MIN], Counts { spam: 1, ham: 0 }, "{e}");
        assert_eq!(found[&1], Counts { spam: 0, ham: 1 }, "{e}");

        // The ham message turns out to be spam: its counts move over.
        assert_eq!(bayes::learn(db_, GLOBAL, 43, &ham_tokens, Class::Spam, 4).await.unwrap(), Learnt::Moved, "{e}");
        assert_eq!(bayes::counts(db_, GLOBAL).await.unwrap(), Counts { spam: 2, ham: 0 }, "{e}");
        let found = bayes::token_counts(db_, GLOBAL, &[1, spam_tokens[5]]).await.unwrap();
        assert_eq!(found[&1], Counts { spam: 1, ham: 0 }, "{e}");
        assert_eq!(found[&spam_tokens[5]], Counts { spam: 2, ham: 0 }, "{e}");

        // And back: spam 42 becomes ham; tokens no message holds any more go.
        assert_eq!(bayes::learn(db_, GLOBAL, 43, &ham_tokens, Class::Ham, 5).await.unwrap(), Learnt::Moved, "{e}");
        assert_eq!(bayes::learn(db_, GLOBAL, 42, &spam_tokens, Class::Ham, 6).await.unwrap(), Learnt::Moved, "{e}");
        assert_eq!(bayes::counts(db_, GLOBAL).await.unwrap(), Counts { spam: 0, ham: 2 }, "{e}");

        // Scopes are separate.
        assert_eq!(bayes::learn(db_, 7, 42, &[5, 6], Class::Spam, 7).await.unwrap(), Learnt::New, "{e}");
        assert_eq!(bayes::counts(db_, 7).await.unwrap(), Counts { spam: 1, ham: 0 }, "{e}");
        assert!(bayes::token_counts(db_, 7, &[1]).await.unwrap().is_empty(), "{e}");

        let status = bayes::status(db_).await.unwrap();
        assert_eq!(status.len(), 2, "{e}");
        assert_eq!(
            (status[0].scope, status[0].messages, status[0].tokens),
            (GLOBAL, Counts { spam: 0, ham: 2 }, 604),
            "{e}"
        );
        assert_eq!((status[1].scope, status[1].tokens), (7, 2), "{e}");

        bayes::reset(db_, Some(7)).await.unwrap();
        assert_eq!(bayes::status(db_).await.unwrap().len(), 1, "{e}");
        assert_eq!(bayes::learnt_as(db_, 7, 42).await.unwrap(), None, "{e}");
        bayes::reset(db_, None).await.unwrap();
        assert!(bayes::status(db_).await.unwrap().is_empty(), "{e}");
        assert_eq!(bayes::counts(db_, GLOBAL).await.unwrap(), Counts::default(), "{e}");
        store.db.close().await;
        db.cleanup().await;
    }
}
