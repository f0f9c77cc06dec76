//! No secret in any output: three planted secrets (the database password, the SMTP password, the
//! ping URL's credentials and token) are looked for in everything sigov prints (text, JSON,
//! `-vv`, `RUST_LOG=trace`, failures of each kind), in the rows it stores and in its metrics.

use crate::backend_test;
use crate::common::*;
use crate::relay::{self, Relay};
use sigov::db::Backend;
use std::io::{Read, Write};

/// Every planted secret contains this.
const MARK: &str = "S3cr3t";

/// A loopback HTTP server answering 200 to every request (a healthchecks stand-in).
fn ping_server() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten().take(200) {
            let mut buf = [0u8; 2048];
            let _ = c.read(&mut buf);
            let _ =
                c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK");
        }
    });
    port
}

backend_test!(no_secret_in_any_output_row_or_metric, |t| {
    let mut d = Data::new(&t);
    d.project(
        "fa000000000000000000000000000001",
        "Secrets",
        Some("2026-11-20"),
    );
    d.member(
        "fa100000000000000000000000000001",
        "fa000000000000000000000000000001",
        RESP,
        true,
    );
    // The database URL with a password (MySQL: a user of its own; SQLite has none).
    let (url, bad_url) = match t.backend {
        Backend::Mysql => {
            let user = format!("sigov_sec_{}_{}", std::process::id(), unique());
            let mut root = t.db();
            root.batch(&format!(
                "DROP USER IF EXISTS '{user}'@'%'; CREATE USER '{user}'@'%' IDENTIFIED BY 'DbPw-{MARK}-1'"
            ))
            .expect("user");
            root.batch(&format!("GRANT ALL ON {}.* TO '{user}'@'%'", t.name))
                .expect("grant");
            let server = mysql_server();
            let host = server.rsplit('@').next().expect("host").to_owned();
            (
                format!("mysql://{user}:DbPw-{MARK}-1@{host}/{}", t.name),
                format!("mysql://{user}:DbPw/{MARK}?-5@{host}/{}", t.name),
            )
        }
        Backend::Sqlite => (
            t.url.clone(),
            format!("{user}:{MARK}@nowhere/db", user = "u"),
        ),
        Backend::Postgres => {
            let user = format!("sigov_sec_{}_{}", std::process::id(), unique());
            let mut root = t.db();
            root.batch(&format!(
                "CREATE ROLE {user} LOGIN PASSWORD 'DbPw-{MARK}-1'; GRANT ALL ON SCHEMA public TO {user}; \
                 GRANT ALL ON ALL TABLES IN SCHEMA public TO {user}; GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {user}"
            ))
            .expect("role");
            let server = pg_server();
            let host = server.rsplit('@').next().expect("host").to_owned();
            (
                format!("postgres://{user}:DbPw-{MARK}-1@{host}/{}", t.name),
                format!(
                    "postgresql://{user}:DbPw/{MARK}?-5@{host}/{}?password=DbPw-{MARK}-6",
                    t.name
                ),
            )
        }
    };
    let relay = Relay::start();
    let port = ping_server();
    let ping =
        format!("http://pinger:PingPw-{MARK}-3@127.0.0.1:{port}/ping/Tok-{MARK}-4/{{check}}");
    let refused = format!("http://pinger:PingPw-{MARK}-3@LOCALHOST:1/ping/Tok-{MARK}-4");
    let dir_tmp = crate::common::tempdir("secrets");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let metrics = dir.join("sigov.prom");
    let url_file = dir.join("url");
    std::fs::write(&url_file, format!("{url}\n{url}\n")).expect("url file");
    let base = || {
        Sigov::new()
            .env("SIGOV_DATABASE_URL", &url)
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .env("SIGOV_METRICS_FILE", metrics.to_str().expect("utf-8"))
    };
    let mut outputs: Vec<(String, Run)> = Vec::new();
    let mut run = |what: &str, s: Sigov| outputs.push((what.to_owned(), s.run()));
    run("config show", base().args(["config", "show"]));
    run(
        "config show json",
        base().args(["config", "show", "--format", "json"]),
    );
    run(
        "config show smtp",
        base()
            .env("SIGOV_SMTP_PASSWORD", &format!("SmtpPw-{MARK}-2"))
            .env("SIGOV_PING_URL", &ping)
            .args(["config", "show", "--format", "json"]),
    );
    run(
        "config check, wrong SMTP password",
        relay::starttls(base(), &relay)
            .env("SIGOV_SMTP_PASSWORD", &format!("SmtpPw-{MARK}-2"))
            .args(["config", "check"]),
    );
    run(
        "check all -vv trace, relay refuses the password, ping answered",
        relay::starttls(base(), &relay)
            .env("SIGOV_SMTP_PASSWORD", &format!("SmtpPw-{MARK}-2"))
            .env("SIGOV_PING_URL", &ping)
            .env("RUST_LOG", "trace")
            .args(["-vv", "check", "all"]),
    );
    run(
        "check all json, ping refused",
        base()
            .env("SIGOV_PING_URL", &refused)
            .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
            .args(["--format", "json", "-vv", "check", "all"]),
    );
    run(
        "ping URL without a scheme",
        base()
            .env(
                "SIGOV_PING_URL",
                &format!("pinger:PingPw-{MARK}-3@host/Tok-{MARK}-4"),
            )
            .args(["check", "deadlines"]),
    );
    run(
        "mail flush trace",
        relay::starttls(base(), &relay)
            .env("SIGOV_SMTP_PASSWORD", &format!("SmtpPw-{MARK}-2"))
            .env("RUST_LOG", "trace")
            .args(["--format", "json", "mail", "flush"]),
    );
    for args in [
        vec!["mail", "queue"],
        vec!["--format", "json", "mail", "queue", "--state", "pending"],
        vec!["runs", "list"],
        vec!["--format", "json", "runs", "show", "1"],
        vec!["health"],
        vec!["health", "--nagios"],
        vec!["--format", "json", "health"],
        vec!["purge", "--dry-run"],
        vec!["db", "status"],
    ] {
        run(&args.join(" "), base().env("RUST_LOG", "trace").args(&args));
    }
    run(
        "bad database URL",
        base()
            .env("SIGOV_DATABASE_URL", &bad_url)
            .env("RUST_LOG", "trace")
            .args(["-vv", "runs", "list"]),
    );
    run(
        "bad database URL, health --nagios",
        base()
            .env("SIGOV_DATABASE_URL", &bad_url)
            .args(["health", "--nagios"]),
    );
    run(
        "database.url_file with two lines",
        base()
            .env("SIGOV_DATABASE_URL", "")
            .env("SIGOV_DATABASE_URL_FILE", url_file.to_str().expect("utf-8"))
            .args(["runs", "list"]),
    );
    for (what, r) in &outputs {
        assert!(
            !r.stdout.contains(MARK) && !r.stderr.contains(MARK),
            "{what} printed a secret:\n{r:#?}"
        );
    }
    // The delivery really met the wrong password, and the pings really happened.
    assert!(
        outputs
            .iter()
            .any(|(_, r)| r.stderr.contains("refused authentication")),
        "{outputs:#?}"
    );
    // What sigov stored and exported.
    #[derive(diesel::QueryableByName, Debug)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>, deserialize_as = sigov::db::text::LossyOpt)]
        v: Option<String>,
    }
    let mut stored: Vec<Text> = Vec::new();
    for sql in [
        "SELECT error AS v FROM sigov_run",
        "SELECT host AS v FROM sigov_run",
        "SELECT last_error AS v FROM sigov_outbox",
        "SELECT last_response AS v FROM sigov_outbox",
        "SELECT payload AS v FROM sigov_outbox",
        "SELECT body AS v FROM sigov_mail_snapshot",
        "SELECT holder AS v FROM sigov_lock",
    ] {
        stored.extend(t.db().load::<Text>(sql, &[]).expect(sql));
    }
    for s in stored.iter().filter_map(|s| s.v.as_deref()) {
        assert!(!s.contains(MARK), "stored: {s}");
    }
    let m = std::fs::read_to_string(&metrics).expect("metrics written");
    assert!(!m.contains(MARK), "{m}");
    if t.backend == Backend::Mysql {
        let user = url
            .split("://")
            .nth(1)
            .and_then(|r| r.split(':').next())
            .unwrap_or_default();
        let _ = t.db().batch(&format!("DROP USER IF EXISTS '{user}'@'%'"));
    }
});

/// Runs `s` and requires it to end within `secs` seconds (a read that blocks would hang cron).
fn ends_within(s: Sigov, secs: u64) -> Run {
    let mut running = s.spawn();
    let start = std::time::Instant::now();
    loop {
        if running.child.try_wait().expect("try_wait").is_some() {
            return running.wait();
        }
        if start.elapsed() > std::time::Duration::from_secs(secs) {
            let _ = running.child.kill();
            panic!("still running after {secs} s: {:#?}", running.wait());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Secret files are read bounded and never block: a FIFO with no writer, a device that never
/// ends, a directory and an oversized file are each refused at once in one line naming the key.
#[test]
fn secret_files_that_are_not_small_regular_files_are_refused_at_once() {
    let dir_tmp = crate::common::tempdir("secret-files");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let fifo = dir.join("fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success());
    let big = dir.join("big");
    std::fs::write(&big, format!("{MARK}{}", "x".repeat(1 << 20))).expect("big file");
    let t = TestDb::new(Backend::Sqlite);
    let cases: [(&std::path::Path, &str); 4] = [
        (&fifo, "is a named pipe (FIFO), not a regular file"),
        (
            std::path::Path::new("/dev/zero"),
            "is a character device, not a regular file",
        ),
        (&dir, "is a directory, not a regular file"),
        (&big, "more than the 4096 a secret file may hold"),
    ];
    for (path, why) in cases {
        for (var, key, base) in [
            ("SIGOV_DATABASE_URL_FILE", "database.url_file", Sigov::new()),
            (
                "SIGOV_SMTP_PASSWORD_FILE",
                "mail.smtp_password_file",
                t.sigov(),
            ),
        ] {
            let r = ends_within(
                base.env(var, path.to_str().expect("utf-8"))
                    .env("SIGOV_SMTP_USER", "sigov")
                    .args(["config", "check"]),
                10,
            );
            assert_eq!(r.code, 1, "{var}={}: {r:#?}", path.display());
            let line = r.error_line();
            assert!(line.contains(key) && line.contains(why), "{line}");
            assert_eq!(r.stderr.lines().count(), 1, "one line: {r:#?}");
            assert!(!r.stderr.contains(MARK) && !r.stdout.contains(MARK));
        }
    }
    // A small regular file, through a link as systemd credentials are, still works.
    let url = dir.join("url");
    std::fs::write(&url, format!("{}\n", t.url)).expect("url");
    let link = dir.join("url-link");
    std::os::unix::fs::symlink(&url, &link).expect("link");
    let r = ends_within(
        Sigov::new()
            .env("SIGOV_DATABASE_URL_FILE", link.to_str().expect("utf-8"))
            .args(["db", "status"]),
        10,
    );
    assert_eq!(r.code, 0, "{r:#?}");
}

/// PostgreSQL passwords in every spelling libpq reads, against the throwaway cluster's
/// password-checking (scram-sha-256) loopback: a raw `@` in a `password=` value, a
/// percent-encoded key, a `passfile=`, a password in the user information that is not encoded.
/// Under every log level and `--format json`, errors show scheme, host, port, user and database
/// and never any piece of the password; the unencoded one says what to encode.
#[test]
fn postgres_passwords_in_every_spelling_never_show() {
    let t = TestDb::new(Backend::Postgres);
    let role = format!("sigov_pw_{}_{}", std::process::id(), unique());
    let right = format!("Qp{MARK}-7@zZ9k");
    t.exec(&format!(
        "DROP ROLE IF EXISTS {role}; CREATE ROLE {role} LOGIN PASSWORD '{right}'; \
         GRANT SELECT ON sigov_schema_migrations TO {role}"
    ));
    let server = pg_server();
    let host = server.rsplit('@').next().expect("host");
    let base = |q: &str| format!("postgres://{role}@{host}/{}?{q}", t.name);
    let enc = right.replace('@', "%40");
    let wrong = format!("Wr{MARK}@ng9k");
    // (URL, exit code, what the error must say)
    let cases = [
        (base(&format!("password={right}")), 0, ""),
        (
            base(&format!("password={wrong}")),
            1,
            "password authentication failed",
        ),
        (
            base(&format!("pass%77ord={wrong}")),
            1,
            "password authentication failed",
        ),
        (base(&format!("pass%77ord={enc}")), 0, ""),
        (
            base(&format!("passfile=/nonexistent/{MARK}&password={wrong}")),
            1,
            "password authentication failed",
        ),
        (
            format!("postgres://{role}:{right}@{host}/{}", t.name),
            1,
            "percent-encode the user name and password (`@` as %40",
        ),
        (format!("postgres://{role}:{enc}@{host}/{}", t.name), 0, ""),
    ];
    let (addr, port) = host.rsplit_once(':').expect("port");
    for (url, code, why) in &cases {
        for (label, args, log) in [
            ("text", vec!["db", "status"], ""),
            ("-vv", vec!["-vv", "db", "status"], ""),
            ("trace", vec!["-vv", "db", "status"], "trace"),
            ("json", vec!["--format", "json", "db", "status"], ""),
            (
                "json -vv",
                vec!["--format", "json", "-vv", "db", "status"],
                "trace",
            ),
        ] {
            let mut s = Sigov::new().env("SIGOV_DATABASE_URL", url).args(&args);
            if !log.is_empty() {
                s = s.env("RUST_LOG", log);
            }
            let r = s.run();
            assert_eq!(r.code, *code, "{label} {url}: {r:#?}");
            let all = format!("{}{}", r.stdout, r.stderr);
            for piece in [MARK, "zZ9k", "ng9k"] {
                assert!(
                    !all.contains(piece),
                    "{label} {url}: `{piece}` shown: {all}"
                );
            }
            if *code != 0 {
                let line = r.error_line();
                assert!(line.contains(why), "{label}: {line}");
                if why.starts_with("password") {
                    for part in [addr, port, role.as_str(), t.name.as_str()] {
                        assert!(line.contains(part), "{label}: `{part}` not named: {line}");
                    }
                }
            }
        }
    }
    t.exec(&format!("DROP OWNED BY {role}; DROP ROLE {role}"));
}
