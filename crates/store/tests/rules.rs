//! The rules repository on every engine: rules with criteria and actions round-trip, the lists
//! come back in hMailServer's order, moves renumber, deletes take criteria and actions along, and
//! the global rules' per-attempt result is kept and removed with its message.

use altimail_store::repo::queue::{self, GlobalRuleResult};
use altimail_store::repo::rules::{self, Action, Criterion, Direction, GLOBAL, Rule};
use altimail_store::{Store, StoreError};
use altimail_testkit::backends;

fn rule(account_id: i64, name: &str) -> Rule {
    Rule { account_id, name: name.into(), active: true, use_and: true, ..Default::default() }
}

#[tokio::test]
async fn rules_criteria_and_actions_round_trip_in_order() {
    for db in backends("rules_repo").await {
        let data = tempfile::tempdir().unwrap();
        let store = Store::open(&db.config, data.path(), true).await.unwrap();
        let (s, e) = (&store.db, db.engine);

        let mut first = rule(GLOBAL, "first");
        first.criteria = vec![
            Criterion {
                use_predefined: true,
                predefined_field: 4,
                match_type: 2,
                match_value: "spam".into(),
                ..Default::default()
            },
            Criterion {
                use_predefined: false,
                header_name: "X-Spam".into(),
                match_type: 1,
                match_value: "YES".into(),
                ..Default::default()
            },
        ];
        first.actions = vec![
            Action { action_type: 4, imap_folder: "Junk.Spam".into(), ..Default::default() },
            Action {
                action_type: 7,
                header: "X-Tag".into(),
                value: "%MACRO_ORIGINAL_HEADER% seen".into(),
                ..Default::default()
            },
            Action {
                action_type: 3,
                from_name: "Bot".into(),
                from_address: "bot@x.test".into(),
                subject: "Re".into(),
                body: "long body\r\n".repeat(100),
                ..Default::default()
            },
        ];
        let first = rules::create(s, &first).await.unwrap();
        assert_eq!(first.sort_order, 1, "{e}");
        assert_eq!(first.actions.iter().map(|a| a.sort_order).collect::<Vec<_>>(), [1, 2, 3], "{e}");
        let second = rules::create(s, &rule(GLOBAL, "second")).await.unwrap();
        let third = rules::create(s, &rule(GLOBAL, "third")).await.unwrap();
        let mine = rules::create(s, &rule(42, "mine")).await.unwrap();
        assert_eq!((second.sort_order, third.sort_order, mine.sort_order), (2, 3, 1), "{e}");

        let global = rules::list(s, GLOBAL).await.unwrap();
        assert_eq!(global.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["first", "second", "third"], "{e}");
        assert_eq!(global[0], first, "{e}: read back as written");
        assert_eq!(rules::get(s, first.id).await.unwrap().unwrap(), first, "{e}");
        assert_eq!(rules::list(s, 42).await.unwrap(), vec![mine.clone()], "{e}");

        // Moves renumber 1, 2, 3 as hMailServer does; the ends do not move.
        rules::move_rule(s, third.id, Direction::Up).await.unwrap();
        rules::move_rule(s, first.id, Direction::Up).await.unwrap();
        let names: Vec<(String, i64)> =
            rules::list(s, GLOBAL).await.unwrap().into_iter().map(|r| (r.name, r.sort_order)).collect();
        assert_eq!(names, [("first".into(), 1), ("third".into(), 2), ("second".into(), 3)], "{e}");
        let reply = first.actions[2].id;
        rules::move_action(s, reply, Direction::Up).await.unwrap();
        rules::move_action(s, reply, Direction::Up).await.unwrap();
        let types: Vec<i64> =
            rules::get(s, first.id).await.unwrap().unwrap().actions.iter().map(|a| a.action_type).collect();
        assert_eq!(types, [3, 4, 7], "{e}");

        // Changes.
        let mut changed = rules::get(s, second.id).await.unwrap().unwrap();
        changed.active = false;
        changed.use_and = false;
        changed.name = "renamed".into();
        rules::update(s, &changed).await.unwrap();
        assert_eq!(rules::get(s, second.id).await.unwrap().unwrap(), changed, "{e}");
        let mut c = first.criteria[0].clone();
        c.match_type = 8;
        c.match_value = "*SPAM*".into();
        rules::update_criterion(s, &c).await.unwrap();
        assert_eq!(rules::get_criterion(s, c.id).await.unwrap().unwrap(), c, "{e}");
        let mut a = first.actions[0].clone();
        a.imap_folder = "Elsewhere".into();
        rules::update_action(s, &a).await.unwrap();
        assert_eq!(rules::get_action(s, a.id).await.unwrap().unwrap().imap_folder, "Elsewhere", "{e}");
        rules::delete_criterion(s, c.id).await.unwrap();
        assert!(matches!(rules::delete_criterion(s, c.id).await, Err(StoreError::NotFound(_))), "{e}");
        rules::delete_action(s, a.id).await.unwrap();
        let now = rules::get(s, first.id).await.unwrap().unwrap();
        assert_eq!((now.criteria.len(), now.actions.len()), (1, 2), "{e}");

        // Validation.
        assert!(matches!(rules::create(s, &rule(GLOBAL, " ")).await, Err(StoreError::Invalid(_))), "{e}");
        let too_long = Action { rule_id: first.id, action_type: 7, header: "h".repeat(81), ..Default::default() };
        assert!(matches!(rules::add_action(s, &too_long).await, Err(StoreError::Invalid(_))), "{e}");

        // Deleting a rule takes its criteria and actions along.
        rules::delete(s, first.id).await.unwrap();
        assert!(rules::get(s, first.id).await.unwrap().is_none(), "{e}");
        assert!(rules::get_action(s, now.actions[0].id).await.unwrap().is_none(), "{e}");
        assert!(rules::get_criterion(s, now.criteria[0].id).await.unwrap().is_none(), "{e}");
        assert!(matches!(rules::delete(s, first.id).await, Err(StoreError::NotFound(_))), "{e}");

        // The global rules' result per queued message.
        assert_eq!(queue::global_rule_result(s, 99).await.unwrap(), None, "{e}");
        let result =
            GlobalRuleResult { attempt: 2, imap_folder: "Junk".into(), route_id: 3, bind_address: "127.0.0.1".into() };
        queue::set_global_rule_result(s, 99, &result).await.unwrap();
        queue::set_global_rule_result(s, 99, &result).await.unwrap();
        assert_eq!(queue::global_rule_result(s, 99).await.unwrap(), Some(result), "{e}");
        queue::remove(s, 99).await.unwrap();
        assert_eq!(queue::global_rule_result(s, 99).await.unwrap(), None, "{e}");

        store.db.close().await;
        db.cleanup().await;
    }
}
