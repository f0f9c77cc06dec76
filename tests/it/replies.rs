//! Replies by e-mail: every mail says where to answer (`Reply-To` with a token bound to its
//! delivery) and how to unsubscribe (`List-Unsubscribe`), on every backend.

use crate::common::*;

fn headers_of_every_mail(backend: sigov::db::Backend) {
    let t = TestDb::demo(backend, 1);
    let dir = tempdir("replies");
    let mail = dir.path().join("mail");
    std::fs::create_dir_all(&mail).expect("mail dir");
    let r = t
        .sigov()
        .env("SIGOV_NOW", "2026-11-22T09:00:00Z")
        .env(
            "SIGOV_MAIL_TRANSPORT",
            &format!("file://{}", mail.display()),
        )
        .env("SIGOV_MAIL_REPLY_ADDRESS", "alertes@example.org")
        .args(["check", "all", "--date", "2026-11-22"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    // The site secret `db migrate` made (the demo migrated the database).
    #[derive(diesel::QueryableByName)]
    struct S {
        #[diesel(sql_type = diesel::sql_types::Text)]
        meta_value: String,
    }
    let s: Vec<S> = t
        .db()
        .load(
            "SELECT meta_value FROM sigov_meta WHERE meta_key = 'reply_secret'",
            &[],
        )
        .expect("secret");
    let secret = sigov::mail::token::decode(&s[0].meta_value).expect("hex");
    let mut seen = 0;
    for f in std::fs::read_dir(&mail).expect("mail") {
        let text = std::fs::read_to_string(f.expect("entry").path()).expect("eml");
        let head = text.split("\r\n\r\n").next().expect("head");
        let header = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap_or_else(|| panic!("no {name} in {head}"))
                .to_owned()
        };
        let reply = header("Reply-To");
        let id: i64 = header("Message-ID")
            .trim_start_matches("<sigov.")
            .split('.')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("row id");
        assert_eq!(
            sigov::mail::token::parse(&secret, "alertes@example.org", &reply),
            Some((sigov::mail::token::Purpose::Reply, id)),
            "{reply}"
        );
        let unsub = header("List-Unsubscribe");
        assert!(
            unsub.starts_with("<mailto:alertes+u") && unsub.ends_with("@example.org?subject=STOP>"),
            "{unsub}"
        );
        assert!(text.contains("par OK si l'alerte est prise en charge"));
        // Nothing says the opposite any more.
        assert!(!text.contains("ne pas y r"), "{text}");
        seen += 1;
    }
    assert!(seen > 3, "{seen} mails");
}

crate::backend_test!(every_mail_says_where_to_answer, fn super::headers_of_every_mail);

/// The throwaway Dovecot the reply tests share (`tests/imap/dovecot.py`): (STARTTLS port,
/// IMAPS port, CA file). Each test works in a folder of its own.
pub(crate) fn dovecot() -> &'static (u16, u16, String) {
    use std::io::BufRead;
    static D: std::sync::OnceLock<((u16, u16, String), std::sync::Mutex<std::process::Child>)> =
        std::sync::OnceLock::new();
    &D.get_or_init(|| {
        let dir = tempdir("dovecot").keep();
        let mut child = std::process::Command::new("/usr/bin/python3")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/imap/dovecot.py"))
            .arg(&dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("start Dovecot (tests/imap/dovecot.py)");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("Dovecot's line");
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|_| {
            panic!("Dovecot did not start (is dovecot-imapd installed? scripts/test-it.sh installs it): {line:?} ({})", dir.display())
        });
        (
            (
                v["starttls"].as_u64().expect("port") as u16,
                v["imaps"].as_u64().expect("port") as u16,
                v["ca"].as_str().expect("ca").to_owned(),
            ),
            std::sync::Mutex::new(child),
        )
    })
    .0
}

pub(crate) type Imap = imap::Session<imap::Connection>;

/// The test's own IMAP session (the server's certificate is the throwaway CA's: not checked
/// here, sigov's side checks it).
pub(crate) fn imap_session() -> Imap {
    let (_, imaps, _) = dovecot();
    imap::ClientBuilder::new("127.0.0.1", *imaps)
        .mode(imap::ConnectionMode::Tls)
        .danger_skip_tls_verify(true)
        .connect()
        .expect("connect to Dovecot")
        .login("alertes", "imap-s3cret")
        .map_err(|(e, _)| e)
        .expect("login")
}

pub(crate) fn put(s: &mut Imap, folder: &str, raw: &str) {
    s.append(folder, raw.replace('\n', "\r\n").as_bytes())
        .finish()
        .expect("append");
}

/// A mail sigov wrote into `dir` to `to`: (Reply-To, List-Unsubscribe, Message-ID, Subject).
pub(crate) fn mail_to(dir: &std::path::Path, to: &str) -> (String, String, String, String) {
    for f in std::fs::read_dir(dir).expect("mail dir") {
        let text = std::fs::read_to_string(f.expect("entry").path()).expect("eml");
        // Headers unfolded: a long subject is folded over several lines.
        let head = text
            .split("\r\n\r\n")
            .next()
            .expect("head")
            .replace("\r\n ", " ")
            .replace("\r\n\t", " ");
        let h = |name: &str| {
            head.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}: ")))
                .unwrap_or_default()
                .to_owned()
        };
        if h("To").contains(to) && h("Auto-Submitted") == "auto-generated" {
            return (
                h("Reply-To"),
                h("List-Unsubscribe"),
                h("Message-ID"),
                h("Subject"),
            );
        }
    }
    panic!("no mail to {to} in {}", dir.display())
}

/// sigov's answers in `dir` (`Auto-Submitted: auto-replied`), by recipient.
fn answers(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in std::fs::read_dir(dir).expect("mail dir") {
        let text = std::fs::read_to_string(f.expect("entry").path()).expect("eml");
        if text.contains("Auto-Submitted: auto-replied") {
            let to = text
                .lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap_or_default()
                .to_owned();
            out.push((to, text));
        }
    }
    out.sort();
    out
}

pub(crate) fn reply(
    from: &str,
    to: &str,
    mid: &str,
    in_reply_to: &str,
    subject: &str,
    extra: &str,
    body: &str,
) -> String {
    format!(
        "From: {from}\nTo: {to}\nSubject: Re: {subject}\nMessage-ID: {mid}\nIn-Reply-To: {in_reply_to}\n{extra}Content-Type: text/plain; charset=utf-8\n\n{body}\n\n> le message d'origine\n"
    )
}

/// A database seeded with the overdue task of `ack`, a folder of its own in Dovecot and a
/// configuration reading it over `scheme` (`imap`: STARTTLS; `imaps`), mail written to files.
struct Setup {
    t: TestDb,
    dir: tempfile::TempDir,
    mail: std::path::PathBuf,
    cfg: std::path::PathBuf,
    folder: String,
    imap: Imap,
}

fn setup(backend: sigov::db::Backend, scheme: &str) -> Setup {
    let t = TestDb::new(backend);
    crate::ack::seed(&t);
    let dir = tempdir("replies-imap");
    let mail = dir.path().join("mail");
    std::fs::create_dir_all(&mail).expect("mail dir");
    let (starttls, imaps, ca) = dovecot();
    let port = if scheme == "imaps" { imaps } else { starttls };
    let folder = format!("t{}", unique());
    let mut imap = imap_session();
    imap.create(&folder).expect("folder");
    let cfg = dir.path().join("sigov.toml");
    std::fs::write(
        &cfg,
        format!(
            "[rules]\nprofile = \"recommended\"\n\
             [mail]\ntransport = \"file://{}\"\nreply_address = \"alertes@example.org\"\ntls_ca_file = \"{ca}\"\n\
             [mail.receive]\nurl = \"{scheme}://alertes:imap-s3cret@localhost:{port}/{folder}\"\n",
            mail.display()
        ),
    )
    .expect("config");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    Setup {
        t,
        dir,
        mail,
        cfg,
        folder,
        imap,
    }
}

fn replies_are_read_once(backend: sigov::db::Backend) {
    use crate::ack::{on, tasks_on, TACHE};
    let Setup {
        t,
        dir,
        mail,
        cfg,
        folder,
        imap: mut s,
    } = setup(backend, "imap");
    // Monday: the assignee (membre) and the responsable (resp) are mailed.
    let v = tasks_on(&t, &cfg, "2026-11-23");
    assert_eq!(v["counters"]["created"], 2, "{v:#}");
    let (m_reply, _, m_mid, m_subject) = mail_to(&mail, "membre@sigov.test");
    let (r_reply, _, r_mid, r_subject) = mail_to(&mail, "resp@sigov.test");
    let other_site = "alertes+r1-0123456789abcdef@example.org";
    for raw in [
        // OK from the assignee: acknowledged.
        reply(
            "Zoé <membre@sigov.test>",
            &m_reply,
            "<ok-1@client.test>",
            &m_mid,
            &m_subject,
            "",
            "OK, c'est en cours",
        ),
        // The same message twice (a client that sent it again): handled once.
        reply(
            "membre@sigov.test",
            &m_reply,
            "<ok-1@client.test>",
            &m_mid,
            &m_subject,
            "",
            "OK",
        ),
        // The responsable asks for a daily digest.
        reply(
            "resp@sigov.test",
            &r_reply,
            "<recap-1@client.test>",
            &r_mid,
            &r_subject,
            "",
            "RECAP 08:00",
        ),
        // Nothing understood: the help.
        reply(
            "resp@sigov.test",
            &r_reply,
            "<hello-1@client.test>",
            &r_mid,
            &r_subject,
            "",
            "Bonjour, que dois-je faire ?",
        ),
        // Someone else with the assignee's token: not acted on, not answered.
        reply(
            "intrus@example.org",
            &m_reply,
            "<intrus-1@client.test>",
            &m_mid,
            &m_subject,
            "",
            "OK",
        ),
        // An out-of-office and a bounce: never acted on, never answered.
        reply(
            "membre@sigov.test",
            &m_reply,
            "<ooo-1@client.test>",
            &m_mid,
            &m_subject,
            "Auto-Submitted: auto-replied\n",
            "Je suis absent",
        ),
        reply(
            "MAILER-DAEMON@client.test",
            &m_reply,
            "<dsn-1@client.test>",
            &m_mid,
            &m_subject,
            "Return-Path: <>\n",
            "Delivery failed",
        ),
        // Another site's token: recorded, not acted on.
        reply(
            "membre@sigov.test",
            other_site,
            "<foreign-1@client.test>",
            "<x@y>",
            "x",
            "",
            "OK",
        ),
    ] {
        put(&mut s, &folder, &raw);
    }
    // Mail that is not sigov's: never touched.
    put(&mut s, &folder, "From: ami@example.org\nTo: alertes@example.org\nSubject: Réunion\nMessage-ID: <other-1@example.org>\n\nÀ demain.\n");
    let r = on(&t, &cfg, "2026-11-23")
        .args(["--format", "json", "mail", "receive"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    let rep = r.json();
    assert_eq!(rep["read"], 8, "{rep:#}");
    assert_eq!(rep["applied"], 3, "{rep:#}");
    assert_eq!(rep["ignored"], 4, "{rep:#}");
    assert_eq!(rep["already"], 1, "{rep:#}");
    assert_eq!(rep["answered"], 3, "{rep:#}");
    assert!(!r.stdout.contains("imap-s3cret") && !r.stderr.contains("imap-s3cret"));
    for args in [
        &["config", "show"][..],
        &["config", "check"][..],
        &["-vv", "mail", "receive"][..],
    ] {
        let r = on(&t, &cfg, "2026-11-23").args(args).run();
        assert!(
            !r.stdout.contains("imap-s3cret") && !r.stderr.contains("imap-s3cret"),
            "{args:?} printed the mailbox password: {r:#?}"
        );
    }
    // A refused login is one line naming the mailbox and the user, never the password.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&cfg)
            .expect("config")
            .replace("imap-s3cret", "wr0ng-pa55"),
    )
    .expect("config");
    let r = on(&t, &bad, "2026-11-23").args(["mail", "receive"]).run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.stderr.contains("login as alertes refused") && !r.stderr.contains("wr0ng-pa55"),
        "{}",
        r.stderr
    );
    // The answers: OK to the assignee, the digest and the help to the responsable.
    let a = answers(&mail);
    assert_eq!(a.len(), 3, "{a:?}");
    assert!(a
        .iter()
        .any(|(to, text)| to.contains("membre@sigov.test") && text.contains("acquitt")));
    assert!(a
        .iter()
        .any(|(to, text)| to.contains("resp@sigov.test") && text.contains("08:00")));
    assert!(a
        .iter()
        .any(|(to, text)| to.contains("resp@sigov.test") && text.contains("REPORTER 3")));
    assert!(a.iter().all(|(_, text)| text.contains("In-Reply-To: <")));
    // What it did: an acknowledgement by the assignee (by reply), the responsable's digest.
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_ack WHERE how = 'reply' AND kind = 'ack'"),
        1
    );
    let prefs = on(&t, &cfg, "2026-11-23")
        .args(["prefs", "show", "resp"])
        .run()
        .ok();
    assert!(
        prefs.stdout.contains("daily digest at 08:00"),
        "{}",
        prefs.stdout
    );
    // sigov's messages are flagged \Seen; the other one is left unread.
    s.select(&folder).expect("select");
    let unseen = s.search("UNSEEN").expect("search");
    let left: Vec<String> = unseen
        .iter()
        .map(|n| {
            let f = s
                .fetch(n.to_string(), "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]")
                .expect("fetch");
            String::from_utf8_lossy(f.iter().next().and_then(|m| m.header()).unwrap_or_default())
                .trim()
                .to_owned()
        })
        .collect();
    assert_eq!(
        left,
        ["Message-ID: <other-1@example.org>"],
        "only the unrelated message stays unread"
    );
    // Tuesday: the acknowledged alert repeats for nobody.
    let v = tasks_on(&t, &cfg, "2026-11-24");
    assert_eq!(v["counters"]["skipped"]["acknowledged"], 2, "{v:#}");
    // A second run reads nothing new and answers nothing again.
    let rep = on(&t, &cfg, "2026-11-24")
        .args(["--format", "json", "mail", "receive"])
        .run()
        .ok()
        .json();
    assert_eq!(
        (rep["read"].clone(), rep["answered"].clone()),
        (0.into(), 0.into()),
        "{rep:#}"
    );
    // Thursday, the due date moved: the alert is raised again (the responsable's now waits for
    // the digest); the assignee puts it off three days, and unsubscribes from that alert type
    // (List-Unsubscribe).
    t.exec(&format!(
        "UPDATE core_tacheetape SET date_fin = '2026-11-19' WHERE id = '{TACHE}'"
    ));
    for f in std::fs::read_dir(&mail).expect("mail") {
        std::fs::remove_file(f.expect("entry").path()).expect("rm");
    }
    let v = tasks_on(&t, &cfg, "2026-11-26");
    assert_eq!(v["counters"]["created"], 2, "{v:#}");
    let (m_reply, m_unsub, m_mid, m_subject) = mail_to(&mail, "membre@sigov.test");
    let unsub = m_unsub
        .trim_start_matches("<mailto:")
        .trim_end_matches("?subject=STOP>")
        .to_owned();
    put(
        &mut s,
        &folder,
        &reply(
            "membre@sigov.test",
            &m_reply,
            "<later-1@client.test>",
            &m_mid,
            &m_subject,
            "",
            "reporter 3",
        ),
    );
    put(&mut s, &folder, &format!(
        "From: membre@sigov.test\nTo: {unsub}\nSubject: STOP\nMessage-ID: <unsub-1@client.test>\n\n\n"
    ));
    let rep = on(&t, &cfg, "2026-11-26")
        .args(["--format", "json", "mail", "receive"])
        .run()
        .ok()
        .json();
    assert_eq!(rep["applied"], 2, "{rep:#}");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_ack WHERE how = 'reply' AND kind = 'snooze' AND ended_at IS NULL"),
        1
    );
    let prefs = on(&t, &cfg, "2026-11-26")
        .args(["prefs", "show", "membre"])
        .run()
        .ok();
    assert!(
        prefs.stdout.contains("muted: type:TACHES_EN_RETARD"),
        "{}",
        prefs.stdout
    );
    // Friday: the repeat is held for everybody by the assignee's snooze.
    let v = tasks_on(&t, &cfg, "2026-11-27");
    assert_eq!(v["counters"]["skipped"]["snoozed"], 2, "{v:#}");
}

crate::backend_test!(replies_by_mail_are_read_once, fn super::replies_are_read_once);

/// `mail receive` killed at many points, then run to the end: each reply recorded once,
/// flagged, and answered at most twice (once but for an answer sent as the process died).
fn receive_killed(backend: sigov::db::Backend) {
    use crate::ack::{on, tasks_on};
    let Setup {
        t,
        dir: _dir,
        mail,
        cfg,
        folder,
        imap: mut s,
    } = setup(backend, "imaps");
    tasks_on(&t, &cfg, "2026-11-23");
    let (m_reply, _, m_mid, m_subject) = mail_to(&mail, "membre@sigov.test");
    let n = 40;
    for i in 0..n {
        put(
            &mut s,
            &folder,
            &reply(
                "membre@sigov.test",
                &m_reply,
                &format!("<aide-{i}@client.test>"),
                &m_mid,
                &m_subject,
                "",
                "AIDE",
            ),
        );
    }
    let mut killed_mid_run = 0;
    for i in 0..8u64 {
        let child = on(&t, &cfg, "2026-11-23").args(["mail", "receive"]).spawn();
        std::thread::sleep(std::time::Duration::from_millis(60 + 50 * i));
        let _ = std::process::Command::new("kill")
            .args(["-9", &child.child.id().to_string()])
            .status();
        let r = child.wait();
        if r.code != 0 {
            killed_mid_run += 1;
        }
    }
    assert!(killed_mid_run > 0, "no kill landed during a run");
    let r = on(&t, &cfg, "2026-11-23")
        .args(["--format", "json", "mail", "receive"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_reply WHERE message_id LIKE '<aide-%'"),
        n
    );
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_reply WHERE message_id LIKE '<aide-%' AND answered_at IS NULL"),
        0
    );
    s.select(&folder).expect("select");
    assert!(s.search("UNSEEN").expect("search").is_empty());
    // Answers by the reply they answer: each at least once, at most twice.
    let mut copies: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (_, text) in answers(&mail) {
        let irt = text
            .lines()
            .find_map(|l| l.strip_prefix("In-Reply-To: "))
            .expect("In-Reply-To")
            .to_owned();
        *copies.entry(irt).or_default() += 1;
    }
    assert_eq!(copies.len() as i64, n, "{copies:?}");
    assert!(copies.values().all(|c| *c <= 2), "{copies:?}");
}

crate::backend_test!(mail_receive_killed_loses_and_doubles_nothing, fn super::receive_killed);
