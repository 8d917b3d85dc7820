//! `altimail serve` fails fast and says why: ports that cannot be listened on, a second server
//! on the same data directory, a data directory it cannot write, database errors, a certificate
//! that cannot be loaded. And once running: a graceful stop that lets a message being sent
//! finish, IPv6 beside IPv4 on a new installation, the warning about an unset host name.

mod common;

use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use altimail_store::Store;
use altimail_testkit::ScratchDb;
use altimail_testkit::tools::skip_line;
use common::{Install, LineClient, Server, eventually, example_com, free_port, wait_inbox, wait_listening};

/// How long a start that must fail may take (creating the schema on MariaDB is slow).
const START_LIMIT: Duration = Duration::from_secs(120);

/// Runs `command` to its end within [`START_LIMIT`]: (exit code, stderr).
fn run_to_end(mut command: Command) -> (i32, String) {
    let mut child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        text
    });
    let deadline = Instant::now() + START_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("still running after {START_LIMIT:?}: {}", reader.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status.code().unwrap_or(-1), reader.join().unwrap())
}

/// `altimail serve ARGS` on `i`, which must stop on its own: (exit code, stderr).
fn serve_to_end(i: &Install, args: &[&str]) -> (i32, String) {
    let mut c = i.command();
    c.arg("serve").args(args);
    run_to_end(c)
}

/// The error line of a failed start (the last line of stderr starting with "error: ").
fn error_line(stderr: &str) -> String {
    stderr.lines().rev().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line: {stderr}")).into()
}

/// `init` and the ports replaced by the ones given, on 127.0.0.1.
fn install_with_ports(ports: &[(&str, u16, &str)]) -> Install {
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    for p in i.json(&["port", "list"]).as_array().unwrap() {
        i.ok(&["port", "remove", &p["id"].to_string()]);
    }
    for (protocol, port, security) in ports {
        i.ok(&[
            "port",
            "add",
            "--protocol",
            protocol,
            "--port",
            &port.to_string(),
            "--address",
            "127.0.0.1",
            "--security",
            security,
        ]);
    }
    i
}

#[test]
fn a_port_in_use_stops_the_start_unless_allowed() {
    let blocker = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = blocker.local_addr().unwrap().port();
    let free = free_port();
    let i = install_with_ports(&[("smtp", busy, "none"), ("pop3", free, "none")]);

    let (code, stderr) = serve_to_end(&i, &[]);
    assert_eq!(code, 1, "{stderr}");
    let error = error_line(&stderr);
    assert!(error.contains(&format!("SMTP port {busy} on 127.0.0.1")), "{error}");
    assert!(error.contains("address already in use"), "{error}");
    assert!(error.contains("another server (perhaps another altimail)"), "{error}");
    assert!(error.contains("altimail serve --allow-missing-listeners"), "{error}");
    assert!(!error.contains("often caused"), "{error}");
    assert!(TcpStream::connect(("127.0.0.1", free)).is_err(), "nothing left listening");

    // Asked to, it runs without the port, and takes it as soon as it is free.
    let mut server = Server::start_with(&i, &["--allow-missing-listeners"]);
    wait_listening(free);
    eventually("warning about the missing port", || server.stderr().contains("running without 1 configured port"));
    // The error log's line reaches the console as well.
    assert!(server.stderr().contains("HM4316"), "{}", server.stderr());
    drop(blocker);
    wait_listening(busy);
    let status = server.stop(Duration::from_secs(25));
    assert!(status.success(), "{status:?}: {}", server.stderr());
}

#[test]
fn a_second_server_on_the_same_data_directory_is_refused() {
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    let (mut first, ports) = i.serve_on(&[("smtp", "none")]);
    let (code, stderr) = serve_to_end(&i, &[]);
    assert_eq!(code, 1, "{stderr}");
    let error = error_line(&stderr);
    assert!(error.contains(&format!("another altimail server (process {})", first.pid())), "{error}");
    assert!(error.contains("altimail.lock"), "{error}");
    assert!(first.exited().is_none(), "the first server runs on");
    assert!(LineClient::connect(ports[0]).1.starts_with("220 "));

    // The lock is the kernel's: it goes with a killed process.
    first.kill();
    let mut second = Server::start(&i);
    wait_listening(ports[0]);
    let status = second.stop(Duration::from_secs(25));
    assert!(status.success(), "{status:?}: {}", second.stderr());
}

#[test]
fn a_data_directory_that_is_a_file_stops_the_start() {
    let i = Install::new(ScratchDb::sqlite());
    std::fs::write(i.path("data"), "not a directory").unwrap();
    let (code, stderr) = serve_to_end(&i, &[]);
    assert_eq!(code, 1, "{stderr}");
    let error = error_line(&stderr);
    assert!(error.contains(&format!("{} is not a directory", i.path("data").display())), "{error}");
}

/// Runs the binary as `nobody` when the tests run as root (root writes everywhere); as an
/// ordinary user, as that user.
fn unprivileged(i: &Install, args: &[&str]) -> Command {
    let mut c = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]).arg(env!("CARGO_BIN_EXE_altimail"));
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_altimail"))
    };
    c.arg("--config").arg(&i.config).args(args).current_dir(i.dir.path()).env_remove("ALTIMAIL_CONFIG");
    c
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

/// An installation whose database lives in its own directory, every directory open to every
/// user (for runs as `nobody`).
fn install_for_anyone() -> Install {
    let i = Install::new(ScratchDb::sqlite());
    let text = std::fs::read_to_string(&i.config).unwrap();
    let own_db = text
        .lines()
        .map(|l| if l.starts_with("path = ") { "path = \"db/altimail.db\"".to_owned() } else { l.to_owned() })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&i.config, own_db).unwrap();
    i.ok(&["init"]);
    for dir in ["", "data", "logs", "temp", "events", "db"] {
        let path = i.path(dir);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    for entry in std::fs::read_dir(i.path("db")).unwrap() {
        std::fs::set_permissions(entry.unwrap().path(), std::fs::Permissions::from_mode(0o666)).unwrap();
    }
    std::fs::set_permissions(&i.config, std::fs::Permissions::from_mode(0o644)).unwrap();
    i
}

#[test]
fn a_data_directory_that_cannot_be_written_stops_the_start() {
    let i = install_for_anyone();
    // Readable and searchable, not writable, for whoever runs the server.
    std::fs::set_permissions(i.path("data"), std::fs::Permissions::from_mode(0o555)).unwrap();
    if !is_root() && std::fs::File::create(i.path("data/probe")).is_ok() {
        skip_line("unwritable data directory: this user can write a directory with mode 0555");
        return;
    }
    let (code, stderr) = run_to_end(unprivileged(&i, &["serve"]));
    assert_eq!(code, 1, "{stderr}");
    let error = error_line(&stderr);
    assert!(error.contains(&format!("the directory {} cannot be written", i.path("data").display())), "{error}");
    assert!(error.contains("Permission denied"), "{error}");
}

#[test]
fn a_privileged_port_as_an_ordinary_user_names_the_permission() {
    if !is_root() {
        skip_line("privileged port test: needs root to run the server as nobody");
        return;
    }
    // A port below 1024 that is free on a loopback address of its own.
    let (address, port) = (2..250u8)
        .flat_map(|last| (900..1000u16).rev().map(move |port| (format!("127.0.0.{last}"), port)))
        .find(|(a, p)| std::net::TcpListener::bind((a.as_str(), *p)).is_ok())
        .expect("a free port below 1024 on 127.0.0.0/8");
    let i = install_for_anyone();
    for p in i.json(&["port", "list"]).as_array().unwrap() {
        i.ok(&["port", "remove", &p["id"].to_string()]);
    }
    i.ok(&["port", "add", "--protocol", "smtp", "--port", &port.to_string(), "--address", &address]);
    let id = i.json(&["port", "list"])[0]["id"].to_string();
    let (code, stderr) = run_to_end(unprivileged(&i, &["serve"]));
    assert_eq!(code, 1, "{stderr}");
    let error = error_line(&stderr);
    assert!(error.contains(&format!("SMTP port {port} on {address}")), "{error}");
    assert!(error.contains("permission denied"), "{error}");
    assert!(error.contains("ports below 1024 need root"), "{error}");
    assert!(error.contains("setcap cap_net_bind_service"), "{error}");
    assert!(error.contains(&format!("altimail port set {id} --port")), "{error}");
}

#[test]
fn an_address_of_another_machine_is_named() {
    // 192.0.2.0/24 is reserved for documentation: no machine has it.
    let i = install_with_ports(&[]);
    i.ok(&["port", "add", "--protocol", "imap", "--port", &free_port().to_string(), "--address", "192.0.2.7"]);
    let (code, stderr) = serve_to_end(&i, &[]);
    assert_eq!(code, 1, "{stderr}");
    let error = error_line(&stderr);
    assert!(error.contains("address not available: 192.0.2.7 is not an address of this machine"), "{error}");
}

#[test]
fn a_certificate_that_cannot_be_loaded_stops_the_start() {
    let tls = free_port();
    let i = install_with_ports(&[]);
    let bad = i.path("bad.pem");
    std::fs::write(&bad, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n").unwrap();
    i.ok(&["certificate", "add", "broken", "--cert", bad.to_str().unwrap(), "--key", bad.to_str().unwrap()]);
    let cert = i.json(&["certificate", "list"])[0]["id"].to_string();
    i.ok(&[
        "port",
        "add",
        "--protocol",
        "imap",
        "--port",
        &tls.to_string(),
        "--address",
        "127.0.0.1",
        "--security",
        "tls",
        "--certificate",
        &cert,
    ]);
    let (code, stderr) = serve_to_end(&i, &[]);
    assert_eq!(code, 1, "{stderr}");
    let error = error_line(&stderr);
    assert!(error.contains(&format!("IMAP port {tls} on 127.0.0.1")), "{error}");
    assert!(error.contains("cannot load its certificate"), "{error}");
    assert!(error.contains(&bad.display().to_string()), "{error}");
}

/// An installation pointing at a database described by `toml` (a `[database]` section).
fn install_on(toml: &str) -> Install {
    let i = Install::new(ScratchDb::sqlite());
    std::fs::write(
        &i.config,
        format!("[directories]\ndata = \"data\"\nlogs = \"logs\"\ntemp = \"temp\"\nevents = \"events\"\n\n{toml}"),
    )
    .unwrap();
    i
}

#[test]
fn a_database_server_that_is_not_running_is_named() {
    for (ty, engine) in [("postgresql", "PostgreSQL"), ("mysql", "MySQL/MariaDB")] {
        let port = free_port();
        let i = install_on(&format!(
            "[database]\ntype = \"{ty}\"\nhost = \"127.0.0.1\"\nport = {port}\nname = \"mail\"\nuser = \"mail\"\n"
        ));
        let (code, stderr) = serve_to_end(&i, &[]);
        assert_eq!(code, 1, "{ty}: {stderr}");
        let error = error_line(&stderr);
        assert!(
            error.contains(&format!("cannot connect to {engine} at 127.0.0.1:{port}: connection refused")),
            "{error}"
        );
        assert!(!error.contains("pool timed out"), "{error}");
    }
}

#[tokio::test]
async fn a_missing_database_names_the_command_that_creates_it() {
    let servers = [ScratchDb::postgres("missingdb").await, ScratchDb::mysql("missingdb").await];
    for db in servers.into_iter().flatten() {
        let (host, port, user, password, ty) = match &db.config {
            altimail_store::DbConfig::Postgres { host, port, user, password, .. } => {
                (host.clone(), *port, user.clone(), password.clone(), "postgresql")
            }
            altimail_store::DbConfig::MySql { host, port, user, password, .. } => {
                (host.clone(), *port, user.clone(), password.clone(), "mysql")
            }
            altimail_store::DbConfig::Sqlite { .. } => unreachable!(),
        };
        let name = format!("altimail_missing_{}", std::process::id());
        let i = install_on(&format!(
            "[database]\ntype = \"{ty}\"\nhost = \"{host}\"\nport = {port}\nname = \"{name}\"\nuser = \"{user}\"\npassword = \"{password}\"\n"
        ));
        let (code, stderr) = serve_to_end(&i, &[]);
        assert_eq!(code, 1, "{ty}: {stderr}");
        let error = error_line(&stderr);
        assert!(error.contains(&format!("the database \"{name}\" does not exist")), "{error}");
        let create = if ty == "postgresql" {
            format!("createdb -h {host} -p {port} -U {user} {name}")
        } else {
            format!("CREATE DATABASE `{name}`")
        };
        assert!(error.contains(&create), "{error}");

        // A user the server does not know.
        let i = install_on(&format!(
            "[database]\ntype = \"{ty}\"\nhost = \"{host}\"\nport = {port}\nname = \"{name}\"\nuser = \"altimail_nobody\"\npassword = \"wrong\"\n"
        ));
        let (code, stderr) = serve_to_end(&i, &[]);
        assert_eq!(code, 1, "{ty}: {stderr}");
        let error = error_line(&stderr);
        assert!(error.contains("refused user \"altimail_nobody\": authentication failed"), "{error}");
        db.cleanup().await;
    }
}

#[tokio::test]
async fn sigterm_lets_a_message_being_sent_finish() {
    let i = Install::new(ScratchDb::sqlite());
    example_com(&i, &[]);
    let (mut server, ports) = i.serve_on(&[("smtp", "none")]);
    let smtp = ports[0];

    let (mut sending, greeting) = LineClient::connect(smtp);
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(sending.ask("HELO client.example").starts_with("250"));
    assert!(sending.ask("MAIL FROM:<sender@example.org>").starts_with("250"));
    assert!(sending.ask("RCPT TO:<john@example.com>").starts_with("250"));
    assert!(sending.ask("DATA").starts_with("354"));
    sending.send("Subject: sent across a stop\r\n\r\nThe first half,\r\n");
    let (mut idle, _) = LineClient::connect(smtp);
    assert!(idle.ask("HELO idle.example").starts_with("250"));

    server.terminate();
    // New connections are refused at once; the idle session is told and closed.
    eventually("listener closed", || TcpStream::connect(("127.0.0.1", smtp)).is_err());
    assert!(idle.line().starts_with("421 "), "a session between transactions is closed");
    // The message being sent finishes and is accepted.
    sending.send("the second half.\r\n.\r\n");
    let reply = sending.line();
    assert!(reply.starts_with("250 "), "{reply}: {}", server.stderr());
    // No new transaction.
    assert!(sending.ask("MAIL FROM:<sender@example.org>").starts_with("421 "));
    let status = server.wait(Duration::from_secs(30));
    assert!(status.success(), "{status:?}: {}", server.stderr());

    // Delivered (now or at the next start).
    let mut server = Server::start(&i);
    let store = Store::open(&i.db.config, i.path("data"), false).await.unwrap();
    let inbox = wait_inbox(&store, "john@example.com", 1).await;
    let text = std::fs::read_to_string(&inbox[0].1).unwrap();
    assert!(text.contains("The first half,\r\nthe second half.\r\n"), "{text}");
    let status = server.stop(Duration::from_secs(25));
    assert!(status.success(), "{status:?}: {}", server.stderr());
}

#[test]
fn a_new_installation_listens_on_ipv6_and_ipv4() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        skip_line("IPv6 listeners: this machine has no IPv6 loopback");
        return;
    }
    let i = Install::new(ScratchDb::sqlite());
    i.ok(&["init"]);
    let ports = i.json(&["port", "list"]);
    let ports = ports.as_array().unwrap();
    let v4: Vec<_> = ports.iter().filter(|p| p["address"] == "0.0.0.0").collect();
    let v6: Vec<_> = ports.iter().filter(|p| p["address"] == "::").collect();
    assert_eq!(v4.len(), 9, "{ports:?}");
    assert_eq!(v6.len(), 9, "every IPv4 wildcard port has its IPv6 twin: {ports:?}");
    for p in &v4 {
        assert!(v6.iter().any(|q| q["port"] == p["port"] && q["protocol"] == p["protocol"]), "{p}");
    }
    // The standard numbers need root and may be taken: the same pairs on free numbers.
    let mut wanted = Vec::new();
    for (protocol, standard) in [("smtp", 25), ("pop3", 110), ("imap", 143)] {
        let number = free_port();
        for p in ports.iter().filter(|p| p["port"] == standard) {
            i.ok(&["port", "set", &p["id"].to_string(), "--port", &number.to_string()]);
        }
        wanted.push((protocol, number));
    }
    for p in ports.iter().filter(|p| ![25, 110, 143].contains(&p["port"].as_i64().unwrap())) {
        i.ok(&["port", "remove", &p["id"].to_string()]);
    }
    let mut server = Server::start(&i);
    for (protocol, number) in &wanted {
        wait_listening(*number);
        for host in ["::1", "127.0.0.1"] {
            eventually(&format!("{protocol} on [{host}]:{number}"), || TcpStream::connect((host, *number)).is_ok());
            let sock = TcpStream::connect((host, *number)).unwrap();
            sock.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(sock), &mut line).unwrap();
            let expected = match *protocol {
                "smtp" => "220 ",
                "pop3" => "+OK",
                _ => "* OK",
            };
            assert!(line.starts_with(expected), "{protocol} over {host}: {line:?}");
        }
    }
    // No host name set: the server says so, once, with the command that sets it.
    let stderr = server.stderr();
    assert_eq!(stderr.matches("the host name is not set").count(), 1, "{stderr}");
    assert!(stderr.contains("altimail setting set hostname mail.example.com"), "{stderr}");
    let status = server.stop(Duration::from_secs(25));
    assert!(status.success(), "{status:?}: {}", server.stderr());
}
