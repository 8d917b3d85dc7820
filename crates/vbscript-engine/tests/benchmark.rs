//! Cost of one call of a typical OnAcceptMessage after parsing. Run with
//! `cargo test -p altimail-vbscript --release --test benchmark -- --ignored --nocapture`.

mod common;
use altimail_vbscript::{Engine, Script, Value, object};
use common::MockObject;
use std::sync::Arc;
use std::time::Instant;

#[test]
#[ignore]
fn one_call_of_on_accept_message() {
    let source = include_str!("scripts/spam_tagging.vbs");
    let started = Instant::now();
    let script = Script::compile(source).unwrap();
    let compile_time = started.elapsed();
    let mut engine = Engine::new(&script);
    engine.set_global("EventLog", object(MockObject::new("EventLog")));
    engine.run_main().unwrap();
    let client = object(MockObject::new("Client").with("ipaddress", Value::from("1.2.3.4")));
    let message = Arc::new(
        MockObject::new("Message")
            .with("subject", Value::from("Meeting notes for Monday"))
            .with("from", Value::from("a@b.c")),
    );
    let args = [client, Value::Object(message)];
    for _ in 0..1_000 {
        engine.call("OnAcceptMessage", &args).unwrap();
    }
    let calls = 50_000;
    let started = Instant::now();
    for _ in 0..calls {
        engine.call("OnAcceptMessage", &args).unwrap();
    }
    let per_call = started.elapsed() / calls;
    let started = Instant::now();
    for _ in 0..calls {
        assert!(!engine.has_procedure("OnSMTPData"));
    }
    let lookup = started.elapsed() / calls;
    println!("compile: {compile_time:?}; one OnAcceptMessage call: {per_call:?}; missing-handler check: {lookup:?}");
}
