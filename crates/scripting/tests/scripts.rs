//! The script server against real files: loading, reloading, missing handlers, errors and
//! budgets, the objects, the events log.

use std::time::Duration;

use altimail_net::HmLog;
use altimail_rules::ScriptEngine as _;
use altimail_scripting::{Arg, ClientInfo, Event, MessageInfo, MessageObject, ScriptConfig, ScriptRecipient, Scripts};

struct Fixture {
    dir: tempfile::TempDir,
    log: HmLog,
    scripts: Scripts,
}

fn fixture(source: &str) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("events")).unwrap();
    std::fs::write(dir.path().join("events/EventHandlers.vbs"), source).unwrap();
    let log = HmLog::new(dir.path().join("logs"), 0);
    let scripts = Scripts::new(dir.path().join("events"), log.clone());
    scripts.set_config(ScriptConfig { enabled: true, ..ScriptConfig::default() });
    Fixture { dir, log, scripts }
}

impl Fixture {
    fn rewrite(&self, source: &str) {
        // A different size makes the change visible even within one mtime tick.
        std::fs::write(self.dir.path().join("events/EventHandlers.vbs"), source).unwrap();
    }

    fn errors(&self) -> String {
        self.log.flush();
        std::fs::read_to_string(self.log.error_log_path()).unwrap_or_default()
    }

    fn events_log(&self) -> String {
        let bytes = std::fs::read(self.scripts.event_log_path()).unwrap_or_default();
        assert_eq!(bytes.get(..2), Some(&[0xFF, 0xFE][..]), "UTF-16LE with BOM");
        let units: Vec<u16> = bytes[2..].chunks(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        String::from_utf16(&units).unwrap()
    }
}

fn client() -> Arg {
    Arg::Client(ClientInfo { ip_address: "127.0.0.1".into(), port: 25, helo: "me".into(), ..ClientInfo::default() })
}

const MSG: &[u8] = b"From: Alice <a@example.com>\r\nTo: b@example.com\r\nSubject: Win the lottery\r\n\r\nHello\r\n";

#[test]
fn result_codes_and_missing_handlers() {
    let f = fixture(
        "Sub OnHELO(oClient)\r\n If oClient.HELO = \"bad\" Then Result.Value = 2 : Result.Message = \"go away\"\r\nEnd Sub\r\n",
    );
    assert!(f.scripts.handles(Event::OnHELO));
    assert!(!f.scripts.handles(Event::OnAcceptMessage));
    let bad = Arg::Client(ClientInfo { helo: "bad".into(), ..ClientInfo::default() });
    let r = f.scripts.fire_blocking(Event::OnHELO, &[bad]).unwrap();
    assert_eq!((r.value, r.message.as_str()), (2, "go away"));
    // Result is new for every call.
    let r = f.scripts.fire_blocking(Event::OnHELO, &[client()]).unwrap();
    assert_eq!((r.value, r.message.as_str()), (0, ""));
    assert!(f.scripts.fire_blocking(Event::OnAcceptMessage, &[client()]).is_none());
}

#[test]
fn off_unless_enabled_and_vbscript() {
    let f = fixture("Sub OnHELO(c)\r\nResult.Value = 1\r\nEnd Sub\r\n");
    f.scripts.set_config(ScriptConfig { enabled: false, ..ScriptConfig::default() });
    assert!(f.scripts.fire_blocking(Event::OnHELO, &[client()]).is_none());
    f.scripts.set_config(ScriptConfig { enabled: true, language: "JScript".into(), ..ScriptConfig::default() });
    assert!(f.scripts.fire_blocking(Event::OnHELO, &[client()]).is_none());
    assert!(f.errors().contains("Script language JScript is not supported"));
    f.scripts.set_config(ScriptConfig { enabled: true, ..ScriptConfig::default() });
    assert_eq!(f.scripts.fire_blocking(Event::OnHELO, &[client()]).unwrap().value, 1);
}

#[test]
fn reloads_when_the_file_changes_and_survives_a_broken_one() {
    let f = fixture("Sub OnHELO(c)\r\nResult.Value = 1\r\nEnd Sub\r\n");
    assert_eq!(f.scripts.fire_blocking(Event::OnHELO, &[client()]).unwrap().value, 1);
    f.rewrite("Sub OnHELO(c)\r\nResult.Value = 3\r\nEnd Sub\r\n' longer\r\n");
    assert_eq!(f.scripts.fire_blocking(Event::OnHELO, &[client()]).unwrap().value, 3);
    f.rewrite("Sub OnHELO(c)\r\nIf Then\r\nEnd Sub\r\n");
    assert!(f.scripts.fire_blocking(Event::OnHELO, &[client()]).is_none());
    assert!(f.errors().contains("HM5016"), "{}", f.errors());
    std::fs::remove_file(f.scripts.script_path()).unwrap();
    assert!(f.scripts.fire_blocking(Event::OnHELO, &[client()]).is_none());
}

#[test]
fn errors_and_budgets_are_logged_with_the_line_and_ignored() {
    let f = fixture(
        "Sub OnHELO(c)\r\nResult.Value = 1\r\nx = 1 / 0\r\nEnd Sub\r\nSub OnSMTPData(c, m)\r\nDo\r\nLoop\r\nEnd Sub\r\n",
    );
    assert!(f.scripts.fire_blocking(Event::OnHELO, &[client()]).is_none());
    f.scripts.set_config(ScriptConfig { enabled: true, max_steps: 10_000, ..ScriptConfig::default() });
    let message = MessageObject::new(MessageInfo::default());
    assert!(f.scripts.fire_blocking(Event::OnSMTPData, &[client(), Arg::Message(message)]).is_none());
    let errors = f.errors();
    assert!(errors.contains("Code: HM4500"), "{errors}");
    assert!(errors.contains("Division by zero - Line: 3"), "{errors}");
    assert!(errors.contains("steps"), "{errors}");
    f.scripts.set_config(ScriptConfig { enabled: true, timeout: Duration::from_millis(50), ..ScriptConfig::default() });
    let message = MessageObject::new(MessageInfo::default());
    assert!(f.scripts.fire_blocking(Event::OnSMTPData, &[client(), Arg::Message(message)]).is_none());
}

#[test]
fn message_changes_count_when_saved() {
    let f = fixture(
        "Sub OnAcceptMessage(oClient, oMessage)\r\n\
         oMessage.HeaderValue(\"X-Unsaved\") = \"1\"\r\n\
         If InStr(oMessage.Subject, \"lottery\") > 0 Then\r\n\
           oMessage.Subject = \"[SPAM] \" & oMessage.Subject\r\n\
           oMessage.HeaderValue(\"X-Spam\") = \"YES\"\r\n\
           oMessage.AddRecipient \"Copy\", \"copy@example.com\"\r\n\
           oMessage.Save\r\n\
         End If\r\n\
         EventLog.Write oMessage.FromAddress & \" \" & oMessage.Recipients.Count & \" \" & oMessage.Recipients(0).Address & \" \" & oMessage.From & \" \" & Trim(oMessage.Body)\r\n\
         End Sub\r\n",
    );
    let message = MessageObject::new(MessageInfo {
        from_address: "a@example.com".into(),
        recipients: vec![ScriptRecipient {
            address: "b@example.com".into(),
            original_address: "b@example.com".into(),
            is_local_user: true,
        }],
        raw: MSG.to_vec(),
        ..MessageInfo::default()
    });
    f.scripts.fire_blocking(Event::OnAcceptMessage, &[client(), Arg::Message(message.clone())]).unwrap();
    let saved = message.saved().unwrap();
    let text = String::from_utf8(saved.raw).unwrap();
    assert!(text.contains("Subject: [SPAM] Win the lottery\r\n"), "{text}");
    assert!(text.contains("X-Unsaved: 1\r\nX-Spam: YES\r\n\r\nHello"), "{text}");
    let added: Vec<String> = saved.recipients.unwrap().into_iter().map(|r| r.address).collect();
    assert_eq!(added, ["b@example.com", "copy@example.com"]);
    let log = f.events_log();
    assert!(log.contains("\t\"a@example.com 2 b@example.com Alice <a@example.com> Hello[nl]\"\r\n"), "{log}");
}

#[test]
fn rule_functions_and_unsupported_objects() {
    let f = fixture(
        "Sub Tag(oMessage)\r\n oMessage.HeaderValue(\"X-Rule\") = \"ran\" : oMessage.Save\r\nEnd Sub\r\n\
         Sub OnClientConnect(c)\r\n Set app = CreateObject(\"hMailServer.Application\")\r\nEnd Sub\r\n\
         Sub OnClientLogon(c)\r\n Set u = CreateObject(\"hMailServer.Utilities\")\r\n Result.Message = Len(u.GenerateGUID) & u.MD5(\"a\")\r\nEnd Sub\r\n",
    );
    let changed = f.scripts.run_function("Tag", MSG).unwrap();
    assert!(String::from_utf8(changed).unwrap().contains("X-Rule: ran\r\n"));
    assert!(f.scripts.run_function("Missing", MSG).is_none());
    assert!(f.scripts.fire_blocking(Event::OnClientConnect, &[client()]).is_none());
    assert!(f.errors().contains("'hMailServer.Application' (not supported by Altimail Server)"), "{}", f.errors());
    let r = f.scripts.fire_blocking(Event::OnClientLogon, &[client()]).unwrap();
    assert_eq!(r.message, "380cc175b9c0f1b6a831c399e269772661");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engines_are_reused_and_globals_kept() {
    let f = fixture("Dim n\r\nn = 0\r\nSub OnHELO(c)\r\n n = n + 1\r\n Result.Value = n\r\nEnd Sub\r\n");
    let mut seen = Vec::new();
    for _ in 0..3 {
        let scripts = f.scripts.clone();
        let r = tokio::task::spawn_blocking(move || scripts.fire_blocking(Event::OnHELO, &[client()])).await.unwrap();
        seen.push(r.unwrap().value);
    }
    assert_eq!(seen, [1, 2, 3]);
}
