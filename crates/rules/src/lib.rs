//! hMailServer's rules, without I/O: which rules match a message and what their actions ask for.
//!
//! A [`Rule`] (read from `hm_rules`, `hm_rule_criterias` and `hm_rule_actions` by the store and
//! turned into this crate's types with [`Rule::from_codes`], [`Criterion::from_codes`] and
//! [`Action::from_codes`]) has [`Criterion`]s on a message's fields and [`Action`]s. [`apply`]
//! runs a list of rules over a message as hMailServer's `RuleApplier` does and returns an
//! [`Outcome`]: whether to delete the message, the folder, route and local address to use, the
//! message as changed by set-header actions, and the mail to generate (forwards, replies,
//! copies), already marked with `X-hMailServer-LoopCount`. The caller performs it all.
//!
//! ```
//! use altimail_rules::{Action, Criterion, Facts, Field, MatchType, Rule, ScriptEngine, apply};
//! let rule = Rule {
//!     id: 1,
//!     name: "spam".into(),
//!     active: true,
//!     use_and: true,
//!     criteria: vec![Criterion::new(Field::Subject, MatchType::Contains, "[SPAM]")],
//!     actions: vec![Action::MoveToFolder("Junk".into())],
//! };
//! let raw = b"Subject: [SPAM] buy now\r\n\r\nbody\r\n".to_vec();
//! let facts = Facts { recipients: vec!["a@example.com".into()], delivery_attempts: 1, loop_limit: 5 };
//! let outcome = apply(&[rule], raw, &facts, &altimail_rules::NoScriptEngine);
//! assert_eq!(outcome.folder.as_deref(), Some("Junk"));
//! ```
//!
//! Layout: `model` (the types and hMailServer's numeric codes), `message` (a message as the
//! criteria see it, and the header edits actions make), `matching` (the match types),
//! `apply` (the evaluation), `script` (the hook for "run function").

#![warn(unreachable_pub)]

mod apply;
mod matching;
mod message;
mod model;
mod script;

pub use apply::{Facts, Generated, Outcome, apply};
pub use matching::test_match;
pub use message::{LOOP_COUNT_HEADER, MessageView, loop_count, raw_header, set_header};
pub use model::{Action, ActionColumns, Criterion, Field, MatchType, Rule, action_type, field_code, match_code};
pub use script::{NoScriptEngine, ScriptEngine};
