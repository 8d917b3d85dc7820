//! Whole EventHandlers.vbs files of the kind hMailServer administrators share, run against
//! mock host objects (Client, Message, Result, EventLog).

mod common;
use altimail_vbscript::{Array, Engine, HostError, HostObject, Script, Value, object};
use common::MockObject;
use std::sync::Arc;

fn engine_for(source: &str) -> (Engine, Arc<MockObject>, Arc<MockObject>) {
    let script = Script::compile(source).unwrap_or_else(|e| panic!("{e}"));
    let mut engine = Engine::new(&script);
    let log = Arc::new(MockObject::new("EventLog"));
    let result = Arc::new(MockObject::new("Result").with("value", Value::Long(0)));
    engine.set_global("EventLog", Value::Object(log.clone()));
    engine.set_global("Result", Value::Object(result.clone()));
    engine.run_main().unwrap_or_else(|e| panic!("{e}"));
    (engine, log, result)
}

fn message(subject: &str) -> Arc<MockObject> {
    Arc::new(
        MockObject::new("Message")
            .with("subject", Value::from(subject))
            .with("from", Value::from("sender@example.net"))
            .with("size", Value::Long(2000))
            .with("filename", Value::from("C:\\data\\{ABC}.eml")),
    )
}

fn client(ip: &str, port: i32, authenticated: bool) -> Value {
    object(
        MockObject::new("Client")
            .with("ipaddress", Value::from(ip))
            .with("port", Value::Long(port))
            .with("authenticated", Value::Bool(authenticated)),
    )
}

#[test]
fn spam_tagging_script() {
    let (mut engine, log, _) = engine_for(include_str!("scripts/spam_tagging.vbs"));
    assert!(engine.has_procedure("OnAcceptMessage"));
    assert!(!engine.has_procedure("OnClientConnect"));

    let spam = message("You are a WINNER of our lottery");
    engine.call("OnAcceptMessage", &[client("1.2.3.4", 25, false), Value::Object(spam.clone())]).unwrap();
    assert_eq!(spam.property("subject").display(), "[SPAM] You are a WINNER of our lottery");
    assert_eq!(spam.header("X-Script-Score").as_deref(), Some("6"));
    assert_eq!(spam.header("X-Spam-Status").as_deref(), Some("Yes, score=6"));
    assert_eq!(spam.calls(), ["save()"]);
    assert_eq!(log.calls(), ["write(Tagged message from sender@example.net (score 6))"]);

    let ham = message("Meeting notes");
    engine.call("OnAcceptMessage", &[client("1.2.3.4", 25, false), Value::Object(ham.clone())]).unwrap();
    assert_eq!(ham.property("subject").display(), "Meeting notes");
    assert_eq!(ham.header("X-Script-Score").as_deref(), Some("0"));
    assert!(ham.calls().is_empty());
}

/// `oApp.Settings.SecurityRanges`, as far as the ban script uses it.
fn application() -> (Value, Arc<MockObject>) {
    let ranges = Arc::new(MockObject::new("SecurityRanges"));
    let settings = MockObject::new("Settings").with("securityranges", Value::Object(ranges.clone()));
    let app = object(MockObject::new("Application").with("settings", object(settings)));
    (app, ranges)
}

#[test]
fn auto_ban_script() {
    let (mut engine, log, result) = engine_for(include_str!("scripts/auto_ban.vbs"));
    let (app, ranges) = application();
    engine.set_global("oApp", app);

    // private addresses and authenticated clients are left alone
    for _ in 0..5 {
        engine.call("OnClientLogon", &[client("192.168.1.5", 25, false)]).unwrap();
        engine.call("OnClientLogon", &[client("8.8.8.8", 25, true)]).unwrap();
    }
    assert!(ranges.calls().is_empty());

    engine.call("OnClientLogon", &[client("203.0.113.9", 25, false)]).unwrap();
    engine.call("OnClientLogon", &[client("203.0.113.9", 25, false)]).unwrap();
    assert!(ranges.calls().is_empty());
    assert_eq!(result.property("value").display(), "0");
    engine.call("OnClientLogon", &[client("203.0.113.9", 25, false)]).unwrap();
    let calls = ranges.calls();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].starts_with("add(Auto-ban 203.0.113.9 (3 failures) "), "{calls:?}");
    assert_eq!(result.property("value").display(), "2");
    assert_eq!(result.property("message").display(), "Too many failed logons");
    assert_eq!(log.calls().len(), 1);
}

/// `oMessage.Recipients`: Count and the default member Item(i).
struct Recipients(Vec<&'static str>);

impl HostObject for Recipients {
    fn type_name(&self) -> &str {
        "Recipients"
    }

    fn get_property(&self, name: &str, args: &[Value]) -> Result<Value, HostError> {
        match name {
            "count" => Ok(Value::Long(self.0.len() as i32)),
            "item" | "" => {
                let i = args.first().ok_or_else(|| HostError::failed("index"))?.to_i64()?;
                let address = self.0.get(i as usize).ok_or_else(|| HostError::failed("index"))?;
                Ok(object(MockObject::new("Recipient").with("address", Value::from(*address))))
            }
            _ => Err(HostError::NoSuchMember(name.into())),
        }
    }
}

#[test]
fn forwarding_script() {
    let (mut engine, log, _) = engine_for(include_str!("scripts/forwarding.vbs"));
    let msg = message("[Sales] new order");
    msg.properties
        .lock()
        .unwrap()
        .insert("recipients".into(), object(Recipients(vec!["a@example.com", "b@example.com"])));
    engine.call("OnAcceptMessage", &[client("1.2.3.4", 25, false), Value::Object(msg.clone())]).unwrap();
    assert_eq!(msg.calls(), ["addrecipient(sales, sales-team@example.com)", "save()"]);
    assert_eq!(log.calls(), ["write(Forwarded to sales-team@example.com)"]);
    // `"Recipient " & i+1` is "Recipient 1", not a type mismatch
    assert_eq!(
        msg.header("X-Recipient-List").as_deref(),
        // Trim leaves the last vbCrLf, as in VBScript
        Some("Recipient 1: a@example.com; Recipient 2: b@example.com; ")
    );

    // the department header wins over the subject; big messages go to the archive too
    let msg = Arc::new(
        MockObject::new("Message")
            .with("subject", Value::from("[sales] x"))
            .with("size", Value::Long(5_000_000))
            .with("recipients", object(Recipients(vec![])))
            .with_header("X-Department", " SUPPORT "),
    );
    engine.call("OnAcceptMessage", &[client("1.2.3.4", 25, false), Value::Object(msg.clone())]).unwrap();
    assert_eq!(
        msg.calls(),
        ["addrecipient(support, helpdesk@example.com)", "addrecipient(Archive, archive@example.com)", "save()"]
    );
}

#[test]
fn logging_script() {
    let (mut engine, log, _) = engine_for(include_str!("scripts/logging.vbs"));
    engine.call("OnClientConnect", &[client("198.51.100.7", 25, false)]).unwrap();
    engine.call("OnClientConnect", &[client("198.51.100.7", 25, false)]).unwrap();
    engine.call("OnClientConnect", &[client("127.0.0.1", 25, false)]).unwrap();
    let calls = log.calls();
    assert_eq!(calls.len(), 4, "{calls:?}");
    assert!(calls[0].ends_with(" connect #1 from 198.51.100.7:25)"), "{calls:?}");
    assert_eq!(calls[2], "write(even connection on port 25)");
    // globals keep their values between calls
    assert_eq!(engine.global("iConnections").unwrap().display(), "3");

    let msg = message("x");
    engine
        .call(
            "OnDeliveryFailed",
            &[Value::Object(msg), Value::from("x@example.org"), Value::from("550 no\r\nsuch user")],
        )
        .unwrap();
    assert_eq!(log.calls()[4], "write(Delivery of C:\\data\\{ABC}.eml to x@example.org failed: 550 no such user)");
}

#[test]
fn missing_handler_is_detected_and_calling_it_is_an_error() {
    let (mut engine, _, _) = engine_for(include_str!("scripts/logging.vbs"));
    assert!(!engine.has_procedure("OnSMTPData"));
    let e = engine.call("OnSMTPData", &[]).unwrap_err();
    assert_eq!(e.number, 35);
    let e = engine.call("OnClientConnect", &[]).unwrap_err();
    assert_eq!(e.number, 450);
    let _ = Array::default();
}

#[test]
fn forum_idioms() {
    let source = r#"
Function Lookup(strRegEx, strMatch) : With CreateObject("VBScript.RegExp") : .Pattern = strRegEx : .Global = False : .MultiLine = True : .IgnoreCase = True : Lookup = .Test(strMatch) : End With : End Function

Sub OnAcceptMessage(oClient, oMessage)
   Dim obApp
   Set obApp = CreateObject("hMailServer.Application")
   Call obApp.Authenticate("Administrator", "secret")
   If (InStr(1, oMessage.Subject, "invoice", 1) > 0) And Not Lookup("^[a-z0-9._%+-]+@example\.com$", oMessage.From) Then
      EventLog.Write("Suspicious invoice from " & oMessage.From)
      Result.Value = 2
      Result.Message = "Rejected"
   End If
   Set obApp = Nothing
End Sub
"#;
    let script = Script::compile(source).unwrap();
    let mut engine = Engine::new(&script);
    let log = Arc::new(MockObject::new("EventLog"));
    let result = Arc::new(MockObject::new("Result"));
    let app = Arc::new(MockObject::new("Application"));
    engine.set_global("EventLog", Value::Object(log.clone()));
    engine.set_global("Result", Value::Object(result.clone()));
    let factory_app = app.clone();
    engine
        .register_factory("hMailServer.Application", Arc::new(move || Ok(factory_app.clone() as Arc<dyn HostObject>)));
    engine.run_main().unwrap();

    let msg = message("Your INVOICE 42");
    engine.call("OnAcceptMessage", &[client("1.2.3.4", 25, false), Value::Object(msg)]).unwrap();
    assert_eq!(app.calls(), ["authenticate(Administrator, secret)"]);
    assert_eq!(log.calls(), ["write(Suspicious invoice from sender@example.net)"]);
    assert_eq!(result.property("value").display(), "2");

    let msg = Arc::new(
        MockObject::new("Message")
            .with("subject", Value::from("invoice"))
            .with("from", Value::from("billing@example.com")),
    );
    engine.call("OnAcceptMessage", &[client("1.2.3.4", 25, false), Value::Object(msg)]).unwrap();
    assert_eq!(log.calls().len(), 1);

    // an object the host does not provide is a clear error at its line
    let script =
        Script::compile("Sub OnClientConnect(c)\n  Set w = CreateObject(\"WScript.Shell\")\nEnd Sub\n").unwrap();
    let mut engine = Engine::new(&script);
    let e = engine.call("OnClientConnect", &[Value::Empty]).unwrap_err();
    assert_eq!((e.number, e.line), (429, 2));
    assert!(e.to_string().contains("WScript.Shell"), "{e}");
}
