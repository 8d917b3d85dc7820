//! Rules over messages: every field, every match type, AND/OR, the actions and their order,
//! stop, and the loop limit.

use std::sync::Mutex;

use altimail_rules::{
    Action, Criterion, Facts, Field, Generated, MatchType, NoScriptEngine, Outcome, Rule, ScriptEngine, apply,
    loop_count, raw_header,
};

const MESSAGE: &[u8] = b"From: \"Sven\" <sven@example.com>\r\nTo: anna@example.net, bo@example.net\r\n\
CC: cc@example.org\r\nSubject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from the SPAM team\r\nX-Spam-Level: ****\r\n\
Content-Type: text/plain\r\n\r\nHello there, buy cheap watches\r\n";

fn facts() -> Facts {
    Facts { recipients: vec!["anna@example.net".into(), "bo@example.net".into()], delivery_attempts: 3, loop_limit: 5 }
}

fn rule(name: &str, use_and: bool, criteria: Vec<Criterion>, actions: Vec<Action>) -> Rule {
    Rule { id: 7, name: name.into(), active: true, use_and, criteria, actions }
}

fn c(field: Field, match_type: MatchType, value: &str) -> Criterion {
    Criterion::new(field, match_type, value)
}

fn run(rules: &[Rule], raw: &[u8]) -> Outcome {
    apply(rules, raw.to_vec(), &facts(), &NoScriptEngine)
}

/// Whether one criterion matches MESSAGE.
fn matches(criterion: Criterion) -> bool {
    let r = rule("one", true, vec![criterion], vec![Action::MoveToFolder("Hit".into())]);
    run(&[r], MESSAGE).folder.is_some()
}

#[test]
fn every_predefined_field() {
    use MatchType::*;
    assert!(matches(c(Field::From, Contains, "SVEN@example.com")));
    assert!(matches(c(Field::From, Equals, "\"Sven\" <sven@example.com>")));
    assert!(matches(c(Field::To, Contains, "bo@example.net")));
    assert!(!matches(c(Field::To, Contains, "cc@example.org")));
    assert!(matches(c(Field::Cc, Equals, "cc@example.org")));
    assert!(matches(c(Field::Subject, Contains, "grüße")), "decoded, without case");
    assert!(matches(c(Field::Body, Contains, "cheap WATCHES")));
    assert!(!matches(c(Field::Body, Contains, "X-Spam-Level")), "the body is not the header");
    assert!(matches(c(Field::MessageSize, Equals, &MESSAGE.len().to_string())));
    assert!(matches(c(Field::MessageSize, GreaterThan, "100")));
    assert!(matches(c(Field::MessageSize, LessThan, "100000")));
    assert!(matches(c(Field::RecipientList, Equals, "anna@example.net;bo@example.net")));
    assert!(matches(c(Field::DeliveryAttempts, Equals, "3")));
    assert!(matches(c(Field::DeliveryAttempts, GreaterThan, "2")));
    assert!(matches(c(Field::Header("x-spam-level".into()), Equals, "****")));
    assert!(matches(c(Field::Header("X-Missing".into()), Equals, "")), "a missing header reads as empty");
    assert!(!matches(c(Field::Unknown(42), Contains, "x")));
}

#[test]
fn every_match_type() {
    use MatchType::*;
    let s = |m, v: &str| matches(c(Field::Subject, m, v));
    assert!(!s(Equals, "GRÜSSE FROM THE SPAM TEAM") && s(Equals, "grüße from the spam team"));
    assert!(s(Contains, "spam") && !s(Contains, "ham"));
    assert!(s(NotContains, "ham") && !s(NotContains, "SPAM"));
    assert!(s(NotEquals, "something else") && !s(NotEquals, "Grüße FROM the spam team"));
    assert!(s(Wildcard, "gr??e*TEAM") && !s(Wildcard, "*ham*"));
    assert!(s(RegEx, "Gr.*SPAM team") && !s(RegEx, "SPAM"), "regular expressions match the whole value");
    assert!(!s(RegEx, "gr.*spam team"), "and with case");
    assert!(!s(RegEx, "(broken"), "a bad expression is no match");
    assert!(s(LessThan, "1") && !s(GreaterThan, "0"), "text reads as 0");
    assert!(!s(Unknown(9), ""));
}

#[test]
fn and_needs_all_or_needs_one_none_needs_criteria() {
    use MatchType::*;
    let yes = c(Field::Subject, Contains, "spam");
    let no = c(Field::Subject, Contains, "ham");
    let act = vec![Action::MoveToFolder("X".into())];
    assert!(run(&[rule("and", true, vec![yes.clone(), yes.clone()], act.clone())], MESSAGE).folder.is_some());
    assert!(run(&[rule("and", true, vec![yes.clone(), no.clone()], act.clone())], MESSAGE).folder.is_none());
    assert!(run(&[rule("or", false, vec![no.clone(), yes.clone()], act.clone())], MESSAGE).folder.is_some());
    assert!(run(&[rule("or", false, vec![no.clone(), no.clone()], act.clone())], MESSAGE).folder.is_none());
    assert!(run(&[rule("none", true, vec![], act.clone())], MESSAGE).folder.is_none());
    assert!(run(&[rule("none", false, vec![], act.clone())], MESSAGE).folder.is_none());
    let mut inactive = rule("off", true, vec![yes], act);
    inactive.active = false;
    assert!(run(&[inactive], MESSAGE).folder.is_none());
}

#[test]
fn all_matching_rules_run_in_order_until_stop() {
    let hit = || c(Field::Subject, MatchType::Contains, "spam");
    let first = rule("first", true, vec![hit()], vec![Action::MoveToFolder("A".into())]);
    let second = rule("second", true, vec![hit()], vec![Action::MoveToFolder("B".into()), Action::SendUsingRoute(4)]);
    let o = run(&[first.clone(), second.clone()], MESSAGE);
    assert_eq!((o.folder.as_deref(), o.route_id), (Some("B"), Some(4)), "the last move wins");
    assert_eq!(o.matched, ["first", "second"]);

    let stopper =
        rule("stop", true, vec![hit()], vec![Action::StopRuleProcessing, Action::BindToAddress("127.0.0.1".into())]);
    let o = run(&[first, stopper, second], MESSAGE);
    assert_eq!(o.folder.as_deref(), Some("A"));
    assert_eq!(o.bind_address.as_deref(), Some("127.0.0.1"), "the stopping rule's own actions still run");
    assert_eq!(o.route_id, None, "later rules do not run");
}

#[test]
fn delete_is_reported_with_the_rule_and_later_actions_still_run() {
    let r = Rule {
        id: 12,
        name: "junk".into(),
        active: true,
        use_and: true,
        criteria: vec![c(Field::Subject, MatchType::Contains, "spam")],
        actions: vec![Action::Delete, Action::Forward { to: "keep@example.com".into() }],
    };
    let o = run(&[r], MESSAGE);
    assert_eq!(o.delete.as_deref(), Some("Rule name: junk, ID: 12"));
    assert_eq!(o.generated.len(), 1);
}

#[test]
fn set_header_changes_the_message_for_later_rules_and_copies() {
    let set = rule(
        "tag",
        true,
        vec![c(Field::Subject, MatchType::Contains, "spam")],
        vec![
            Action::SetHeader { name: "Subject".into(), value: "[tagged] %MACRO_ORIGINAL_HEADER%".into() },
            Action::SetHeader { name: "X-New".into(), value: "yes".into() },
        ],
    );
    let later = rule(
        "later",
        true,
        vec![c(Field::Header("X-New".into()), MatchType::Equals, "YES")],
        vec![Action::CreateCopy, Action::Forward { to: "f@example.com".into() }],
    );
    let o = run(&[set, later], MESSAGE);
    let changed = o.message.expect("changed");
    assert_eq!(raw_header(&changed, "Subject"), "[tagged] =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= from the SPAM team");
    assert_eq!(raw_header(&changed, "X-New"), "yes");
    assert!(changed.ends_with(b"\r\n\r\nHello there, buy cheap watches\r\n"));
    match &o.generated[..] {
        [Generated::Copy { rule, data: copy }, Generated::Forward { to, data: fwd }] => {
            assert_eq!(rule, "later");
            assert_eq!(raw_header(copy, "X-CopyRule"), "later");
            assert_eq!(raw_header(copy, "X-New"), "yes");
            assert_eq!(loop_count(copy), 1);
            assert_eq!(to, "f@example.com");
            assert_eq!(loop_count(fwd), 1);
            assert_eq!(raw_header(fwd, "X-CopyRule"), "");
        }
        other => panic!("{other:?}"),
    }
    assert!(run(&[], MESSAGE).message.is_none(), "unchanged: no new message");
}

#[test]
fn generated_mail_stops_at_the_loop_limit() {
    let all = || {
        vec![
            Action::Forward { to: "f@example.com".into() },
            Action::CreateCopy,
            Action::Reply {
                from_name: "Bot".into(),
                from_address: "bot@example.com".into(),
                subject: "Re".into(),
                body: "Thanks".into(),
            },
        ]
    };
    let r = rule("gen", true, vec![c(Field::Subject, MatchType::Contains, "spam")], all());
    let below = altimail_rules::set_header(MESSAGE, "X-hMailServer-LoopCount", "4");
    let o = run(std::slice::from_ref(&r), &below);
    assert_eq!(o.generated.len(), 3);
    assert!(o.generated.iter().all(|g| match g {
        Generated::Forward { data, .. } | Generated::Copy { data, .. } => loop_count(data) == 5,
        Generated::Reply { loop_count, .. } => *loop_count == 5,
    }));
    let at = altimail_rules::set_header(MESSAGE, "X-hMailServer-LoopCount", "5");
    let o = run(std::slice::from_ref(&r), &at);
    assert!(o.generated.is_empty());
    assert_eq!(o.refused.len(), 3);
    // A reply is also refused for automatic mail; a forward is not.
    let auto = altimail_rules::set_header(MESSAGE, "Auto-Submitted", "auto-replied");
    let o = run(std::slice::from_ref(&r), &auto);
    assert_eq!(o.generated.len(), 2);
    let not_auto = altimail_rules::set_header(MESSAGE, "Auto-Submitted", "no");
    assert_eq!(run(&[r], &not_auto).generated.len(), 3);
}

#[test]
fn forward_without_an_address_is_refused() {
    let r =
        rule("f", true, vec![c(Field::Subject, MatchType::Contains, "spam")], vec![Action::Forward { to: " ".into() }]);
    let o = run(&[r], MESSAGE);
    assert!(o.generated.is_empty() && o.refused.len() == 1);
}

struct Uppercase(Mutex<Vec<String>>);

impl ScriptEngine for Uppercase {
    fn run_function(&self, function: &str, raw: &[u8]) -> Option<Vec<u8>> {
        self.0.lock().unwrap().push(function.to_owned());
        Some(altimail_rules::set_header(raw, "X-Script", function))
    }
}

#[test]
fn run_function_goes_to_the_script_engine() {
    let r = rule(
        "s",
        true,
        vec![c(Field::Subject, MatchType::Contains, "spam")],
        vec![Action::RunFunction("MyFunction".into())],
    );
    let engine = Uppercase(Mutex::new(Vec::new()));
    let o = apply(std::slice::from_ref(&r), MESSAGE.to_vec(), &facts(), &engine);
    assert_eq!(engine.0.lock().unwrap().as_slice(), ["MyFunction"]);
    assert_eq!(raw_header(&o.message.unwrap(), "X-Script"), "MyFunction");
    // Without an engine the message stays as it is.
    assert!(run(&[r], MESSAGE).message.is_none());
}
