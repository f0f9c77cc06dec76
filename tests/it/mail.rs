//! Mail: the outbox delivered to a real SMTP relay (aiosmtpd: STARTTLS + AUTH, implicit TLS,
//! plain loopback), on every backend: structure and headers, escaping, exactly one mail per
//! alert across runs, and the relay down, refusing one recipient, deferring, rejecting the
//! password, presenting an untrusted certificate, or too slow.

use crate::backend_test;
use crate::common::*;
use crate::relay::{self, Relay};

const P7: &str = "20000000000000000000000000000007";
const PLATE: &str = "2000000000000000000000000000000f";
const EVIL: &str = "Evil\r\nBcc: evil@x.test <script>alert(1)</script>";

/// A J-7 project (createur admin, responsable resp, members membre and sansmail) and an overdue
/// one with a hostile name: 6 alerts in the reference profile, 5 mails (sansmail has none).
fn seed(t: &TestDb) {
    let mut d = Data::new(t);
    d.project(P7, "R&D <Alpha>", Some("2026-11-29"));
    d.project(PLATE, EVIL, Some("2026-11-20"));
    d.member("f0000000000000000000000000000001", P7, RESP, true);
    d.member("f0000000000000000000000000000002", P7, MEMBER, false);
    d.member("f0000000000000000000000000000003", P7, NOMAIL, false);
    d.member("f0000000000000000000000000000004", PLATE, RESP, true);
}

/// `sigov check deadlines --profile reference` as of 2026-11-22 10:00 UTC, JSON report.
fn check(s: Sigov, extra: &[&str]) -> Run {
    s.env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .args([
            "check",
            "deadlines",
            "--profile",
            "reference",
            "--date",
            "2026-11-22",
            "--format",
            "json",
        ])
        .args(extra)
        .run()
}

fn states(t: &TestDb, state: &str) -> i64 {
    t.count(&format!(
        "SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = '{state}'"
    ))
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

fn sorted_rcpts(relay: &Relay) -> Vec<String> {
    let mut v: Vec<String> = relay
        .received()
        .into_iter()
        .flat_map(|m| m.rcpt_tos)
        .collect();
    v.sort();
    v
}

backend_test!(starttls_auth_delivers_one_mail_per_alert_across_runs, |t| {
    seed(&t);
    let relay = Relay::start();
    let r = check(relay::starttls(t.sigov(), &relay), &[]);
    assert_eq!(r.code, 0, "{r:#?}");
    let v = r.json();
    assert_eq!(v["counters"]["created"], 6, "{v:#}");
    assert_eq!(v["counters"]["mails_queued"], 5);
    assert_eq!(v["counters"]["mails_sent"], 5);
    assert_eq!(v["mail"]["connections"], 1, "one connection for the run");
    let got = relay.received();
    assert_eq!(got.len(), 5);
    assert_eq!(
        sorted_rcpts(&relay),
        [
            "admin@sigov.test",
            "admin@sigov.test",
            "membre@sigov.test",
            "resp@sigov.test",
            "resp@sigov.test"
        ]
    );
    let mut ids = Vec::new();
    for m in &got {
        assert!(m.tls && m.auth && m.listener == "starttls", "{m:#?}");
        assert_eq!(m.mail_from, "noreply@si-gouvernance.com");
        assert_eq!(m.rcpt_tos.len(), 1);
        let types: Vec<&str> = m.parts.iter().map(|p| p.content_type.as_str()).collect();
        assert_eq!(types, ["multipart/alternative", "text/plain", "text/html"]);
        assert_eq!(m.header("Auto-Submitted"), Some("auto-generated"));
        assert_eq!(m.header("X-Auto-Response-Suppress"), Some("All"));
        assert_eq!(m.header("List-Id"), Some("<alerts.si-gouvernance.com>"));
        // The time the mail was composed: SIGOV_NOW plus the run's own time so far (the clock
        // moves during a run), so within the first minutes, whatever the machine's load.
        let date = m
            .header("Date")
            .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
            .expect("a Date header");
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").expect("start");
        let after = (date - start).num_seconds();
        assert!(
            (0..120).contains(&after),
            "Date {date}: {after} s after SIGOV_NOW"
        );
        let id = m.header("Message-ID").expect("Message-ID").to_owned();
        assert!(
            id.starts_with("<sigov.") && id.ends_with("@si-gouvernance.com>"),
            "{id}"
        );
        ids.push(id);
        assert!(
            m.subject.starts_with("[SI-Gouvernance] ⚠️ Alerte: "),
            "{}",
            m.subject
        );
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 5, "one Message-ID per mail");
    // The Message-ID is the outbox row's, recorded when the relay took it.
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = 'sent' AND message_id LIKE '<sigov.%' AND last_response LIKE '250%'"),
        5
    );
    // A hostile project name cannot add a header or a recipient, and is escaped in HTML.
    let evil = got
        .iter()
        .find(|m| m.subject.contains("Evil"))
        .expect("overdue mail");
    assert!(
        evil.subject
            .contains("Evil Bcc: evil@x.test <script>alert(1)</script>"),
        "{}",
        evil.subject
    );
    assert!(
        !evil
            .raw_headers
            .lines()
            .any(|l| l.to_ascii_lowercase().starts_with("bcc:")),
        "{}",
        evil.raw_headers
    );
    let html = evil.part("text/html");
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("box box-danger"));
    assert!(evil
        .part("text/plain")
        .contains("- Date limite: 20/11/2026"));
    let member = got
        .iter()
        .find(|m| m.rcpt_tos[0] == "membre@sigov.test")
        .expect("member mail");
    assert!(member
        .part("text/html")
        .contains("Bonjour Zoé L&#x27;Hôte &amp; &lt;Fils&gt;,"));
    assert!(member.part("text/html").contains("box box-warning"));
    assert!(member
        .part("text/plain")
        .starts_with("Bonjour Zoé L'Hôte & <Fils>,\n\n"));
    // The next run records nothing and sends nothing.
    let again = check(relay::starttls(t.sigov(), &relay), &[]);
    assert_eq!(again.code, 0, "{again:#?}");
    assert_eq!(again.json()["counters"]["created"], 0);
    assert_eq!(relay.received().len(), 5);
});

backend_test!(
    relay_down_keeps_mail_and_a_later_run_delivers_it_once,
    |t| {
        seed(&t);
        let down = format!("smtp://127.0.0.1:{}?tls=none", closed_port());
        let r = check(t.sigov().env("SIGOV_MAIL_TRANSPORT", &down), &[]);
        assert_eq!(r.code, 3, "alerts recorded, mail deferred: {r:#?}");
        assert!(
            r.stderr.contains("sigov: deadlines: mail: 0 sent"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("5 deferred: cannot connect to the relay"),
            "{}",
            r.stderr
        );
        let v = r.json();
        assert_eq!(v["counters"]["created"], 6);
        assert_eq!(v["counters"]["mails_deferred"], 5);
        assert_eq!(states(&t, "pending"), 5);
        assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE attempts = 0 AND last_error LIKE 'cannot connect%'"),
        5
    );
        assert_eq!(
            t.count(
                "SELECT COUNT(*) AS n FROM sigov_run WHERE counters LIKE '%\"mails_deferred\":5%'"
            ),
            1
        );
        let relay = Relay::start();
        // Wrong password: nothing goes, nothing is lost.
        let bad = relay::starttls(t.sigov(), &relay)
            .env("SIGOV_SMTP_PASSWORD", "wrong")
            .args(["mail", "flush"])
            .run();
        assert_eq!(bad.code, 3, "{bad:#?}");
        assert!(
            bad.stderr.contains("refused authentication"),
            "{}",
            bad.stderr
        );
        assert_eq!(states(&t, "pending"), 5);
        assert!(relay.received().is_empty());
        // The next check run creates nothing and delivers the waiting mail, once.
        let next = check(relay::starttls(t.sigov(), &relay), &[]);
        assert_eq!(next.code, 0, "{next:#?}");
        assert_eq!(next.json()["counters"]["created"], 0);
        assert_eq!(next.json()["counters"]["mails_sent"], 5);
        assert_eq!(relay.received().len(), 5);
        let flush = relay::starttls(t.sigov(), &relay)
            .args(["--format", "json", "mail", "flush"])
            .run();
        assert_eq!(flush.code, 0, "{flush:#?}");
        assert_eq!(flush.json()["messages"], 0);
        assert_eq!(relay.received().len(), 5);
        assert_eq!(states(&t, "sent"), 5);
    }
);

/// A relay that refuses one recipient at RCPT (`relay_options`: with or without PIPELINING:
/// the refusal is read in step either way, and the session goes on after RSET).
fn rejected_recipient(t: &TestDb, relay_options: &[&str]) {
    seed(t);
    t.exec(&format!(
        "UPDATE core_utilisateur SET email = 'reject.membre@sigov.test' WHERE id = '{MEMBER}'"
    ));
    let relay = Relay::start_with(relay_options);
    let r = check(
        t.sigov().env("SIGOV_MAIL_TRANSPORT", &relay.plain_url()),
        &[],
    );
    assert_eq!(r.code, 3, "{r:#?}");
    let v = r.json();
    assert_eq!(v["counters"]["mails_sent"], 4);
    assert_eq!(v["counters"]["mails_dead"], 1);
    assert_eq!(
        v["mail"]["connections"], 1,
        "RSET after the refusal keeps the session"
    );
    assert_eq!(relay.received().len(), 4);
    let pipelining = !relay_options.contains(&"--no-pipelining");
    assert!(
        relay.received().iter().all(|m| m.pipelined == pipelining),
        "MAIL, RCPT and DATA written at once exactly when the relay offers PIPELINING"
    );
    let q = t
        .sigov()
        .args(["--format", "json", "mail", "queue", "--state", "dead"])
        .run()
        .ok()
        .json();
    let rows = q["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 1, "{q:#}");
    assert_eq!(rows[0]["recipient_email"], "reject.membre@sigov.test");
    assert!(
        rows[0]["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("550")),
        "{q:#}"
    );
    // Fixed address, requeued: delivered once.
    t.exec("UPDATE sigov_outbox SET recipient_email = 'membre@sigov.test' WHERE state = 'dead'");
    let rq = t.sigov().args(["mail", "retry"]).run().ok();
    assert!(rq.stdout.contains("requeued 1"), "{rq:#?}");
    let f = t
        .sigov()
        .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
        .args(["mail", "flush"])
        .run();
    assert_eq!(f.code, 0, "{f:#?}");
    assert_eq!(relay.received().len(), 5);
    assert_eq!(states(t, "sent"), 5);
}

backend_test!(a_rejected_recipient_is_dead_and_the_others_go, |t| {
    rejected_recipient(&t, &[]);
});

backend_test!(a_rejected_recipient_without_pipelining, |t| {
    rejected_recipient(&t, &["--no-pipelining"]);
});

backend_test!(a_deferred_mail_backs_off_then_dies, |t| {
    seed(&t);
    t.exec(&format!(
        "UPDATE core_utilisateur SET email = 'tempfail.membre@sigov.test' WHERE id = '{MEMBER}'"
    ));
    let relay = Relay::start();
    let cfg_tmp = crate::common::tempdir("backoff");
    let cfg = cfg_tmp.path().join("backoff.toml");
    std::fs::write(&cfg, "[mail]\nmax_attempts = 2\nretry_base_secs = 600\n").expect("config");
    let sigov = || {
        t.sigov()
            .env("SIGOV_CONFIG", cfg.to_str().expect("utf-8"))
            .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
    };
    let r = check(sigov(), &[]);
    assert_eq!(r.code, 3, "{r:#?}");
    assert_eq!(r.json()["counters"]["mails_failed"], 1);
    assert_eq!(states(&t, "failed"), 1);
    // Not due before its next attempt (10 minutes later).
    let early = sigov()
        .env("SIGOV_NOW", "2026-11-22T10:05:00Z")
        .args(["--format", "json", "mail", "flush"])
        .run();
    assert_eq!(early.code, 0, "{early:#?}");
    assert_eq!(early.json()["messages"], 0);
    let late = sigov()
        .env("SIGOV_NOW", "2026-11-22T10:11:00Z")
        .args(["--format", "json", "mail", "flush"])
        .run();
    assert_eq!(late.code, 3, "{late:#?}");
    assert_eq!(late.json()["dead"], 1);
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = 'dead' AND attempts = 2 AND last_error LIKE '%451%'"),
        1
    );
    assert_eq!(relay.received().len(), 4);
    let _ = std::fs::remove_file(&cfg);
});

backend_test!(digest_mode_sends_one_mail_per_recipient, |t| {
    seed(&t);
    let relay = Relay::start();
    let r = check(
        t.sigov()
            .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
            .env("SIGOV_MAIL_MODE", "digest"),
        &[],
    );
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(r.json()["counters"]["mails_sent"], 5);
    assert_eq!(
        sorted_rcpts(&relay),
        ["admin@sigov.test", "membre@sigov.test", "resp@sigov.test"]
    );
    let admin = relay
        .received()
        .into_iter()
        .find(|m| m.rcpt_tos[0] == "admin@sigov.test")
        .expect("admin digest");
    assert!(
        admin.subject.starts_with("[SI-Gouvernance] 2 alertes: "),
        "{}",
        admin.subject
    );
    // Two alerts of two projects: each project's card once, each alert once.
    let html = admin.part("text/html");
    assert_eq!(html.matches("<div class=\"box box-").count(), 2);
    assert_eq!(html.matches("class=\"item project\"").count(), 2, "{html}");
    assert_eq!(
        t.count("SELECT COUNT(DISTINCT message_id) AS n FROM sigov_outbox WHERE state = 'sent'"),
        3
    );
});

backend_test!(a_crashed_senders_claim_expires_with_its_lease, |t| {
    seed(&t);
    let r = check(t.sigov(), &["--no-mail"]);
    assert_eq!(r.code, 0, "{r:#?}");
    assert_eq!(states(&t, "pending"), 5);
    // A sender died at 09:59 holding two rows.
    t.exec(
        "UPDATE sigov_outbox SET state = 'sending', claim_token = 'dead-host:1:1', claimed_at = '2026-11-22 09:59:00' \
         WHERE id IN (SELECT id FROM (SELECT id FROM sigov_outbox ORDER BY id LIMIT 2) AS two)",
    );
    let relay = Relay::start();
    let flush = |now: &str, extra: &[&str]| {
        t.sigov()
            .env("SIGOV_NOW", now)
            .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
            .args(["--format", "json", "mail", "flush"])
            .args(extra)
            .run()
    };
    // --limit sends that many and gives the rest back untouched.
    assert_eq!(
        flush("2026-11-22T10:00:00Z", &["--limit", "1"]).json()["sent"],
        1
    );
    assert_eq!(states(&t, "pending"), 2);
    assert_eq!(flush("2026-11-22T10:00:00Z", &[]).json()["sent"], 2);
    assert_eq!(
        states(&t, "sending"),
        2,
        "still under the dead sender's lease"
    );
    assert_eq!(flush("2026-11-22T10:20:00Z", &[]).json()["sent"], 2);
    assert_eq!(relay.received().len(), 5);
    assert_eq!(states(&t, "sent"), 5);
});

#[test]
fn transports_tls_auth_and_their_failures() {
    let relay = Relay::start();
    let test = |s: Sigov| s.args(["mail", "test", "--to", "ops@sigov.test"]).run();
    let ok = test(relay::starttls(Sigov::new(), &relay)).ok();
    assert!(
        ok.stdout.contains("(STARTTLS): 250 2.0.0 Ok: queued"),
        "{ok:#?}"
    );
    let implicit = test(relay::starttls(Sigov::new(), &relay).env(
        "SIGOV_MAIL_TRANSPORT",
        &format!("smtps://localhost:{}", relay.tls),
    ))
    .ok();
    assert!(implicit.stdout.contains("(TLS): 250"), "{implicit:#?}");
    let got = relay.received();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|m| m.tls && m.auth));
    assert_eq!(got[0].subject, "[SI-Gouvernance] Message de test de sigov");
    // Wrong password.
    let r = test(relay::starttls(Sigov::new(), &relay).env("SIGOV_SMTP_PASSWORD", "wrong"));
    assert_eq!(r.code, 1);
    assert!(
        r.error_line().contains("refused authentication") && r.error_line().contains("535"),
        "{r:#?}"
    );
    // Password from a file (systemd LoadCredential=).
    let pw_tmp = crate::common::tempdir("pw");
    let pw = pw_tmp.path().join("smtp-password");
    std::fs::write(&pw, format!("{}\n", relay::PASSWORD)).expect("pw");
    test(
        relay::starttls(Sigov::new(), &relay)
            .env("SIGOV_SMTP_PASSWORD", "")
            .env("SIGOV_SMTP_PASSWORD_FILE", pw.to_str().expect("utf-8")),
    )
    .ok();
    let _ = std::fs::remove_file(&pw);
    // A certificate nobody vouches for.
    let r = test(relay::starttls(Sigov::new(), &relay).env("SIGOV_SMTP_CA_FILE", ""));
    assert_eq!(r.code, 1);
    assert!(
        r.error_line().contains("certificate verify failed"),
        "{r:#?}"
    );
    // Plain SMTP is for a relay on this machine only.
    let r = test(Sigov::new().env("SIGOV_MAIL_TRANSPORT", "smtp://mail.example.org?tls=none"));
    assert_eq!(r.code, 1);
    assert!(
        r.error_line()
            .contains("only allowed to a relay on this machine"),
        "{r:#?}"
    );
    let r = test(Sigov::new().env("SIGOV_MAIL_TRANSPORT", "imap://mail.example.org"));
    assert!(
        r.code == 1 && r.error_line().contains("unknown scheme"),
        "{r:#?}"
    );
    let r = test(Sigov::new().env("SIGOV_MAIL_TRANSPORT", "smtp://127.0.0.1:1?tls=none"));
    assert!(
        r.code == 1 && r.error_line().contains("Connection refused"),
        "{r:#?}"
    );
    let r = test(Sigov::new().env("SIGOV_MAIL_MODE", "weekly"));
    assert!(
        r.code == 1 && r.error_line().contains("mail.mode"),
        "{r:#?}"
    );
    assert_eq!(relay.received().len(), 3);
}

#[test]
fn a_slow_relay_times_out() {
    let relay = Relay::start_with(&["--slow-data", "6"]);
    let started = std::time::Instant::now();
    let r = Sigov::new()
        .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
        .env("SIGOV_SMTP_TIMEOUT", "1")
        .args(["mail", "test", "--to", "ops@sigov.test"])
        .run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line()
            .contains("the relay did not confirm the message after its body was sent: no answer, timed out after 1 s"),
        "{r:#?}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "no timeout"
    );
}

#[test]
fn preview_renders_samples_and_queued_mail_and_uses_overrides() {
    let p = Sigov::new().args(["mail", "preview"]).run().ok();
    for name in [
        "echeance-j3",
        "echeance-depassee",
        "retard-etape",
        "budget-depasse",
        "tache-echeance",
        "digest",
        "daily",
        "test",
    ] {
        assert!(
            p.stdout.contains(&format!("===== sample-{name}")),
            "{}",
            p.stdout
        );
    }
    assert!(p
        .stdout
        .contains("Subject: [SI-Gouvernance] Étape: 🔴 Étape Développement - EN RETARD"));
    let dir_tmp = crate::common::tempdir("preview");
    let dir = dir_tmp.path().to_path_buf();
    Sigov::new()
        .args(["mail", "preview", "--output", dir.to_str().expect("utf-8")])
        .run()
        .ok();
    let html = std::fs::read_to_string(dir.join("sample-echeance-j3.html")).expect("html");
    assert!(html.contains("box box-warning") && html.contains("R&amp;D &lt;Alpha&gt;"));
    let eml = std::fs::read_to_string(dir.join("sample-digest.eml")).expect("eml");
    assert!(eml.contains("Content-Type: multipart/alternative"));
    // A template directory replaces one file.
    std::fs::write(
        dir.join("alert.subject.txt"),
        "Alerte {{ a.type_label }} — {{ a.projet_nom }}",
    )
    .expect("tpl");
    let o = Sigov::new()
        .env("SIGOV_MAIL_TEMPLATES", dir.to_str().expect("utf-8"))
        .args(["mail", "preview"])
        .run()
        .ok();
    assert!(
        o.stdout
            .contains("Subject: Alerte Échéance dépassée — R&D <Alpha> — Portail Été"),
        "{}",
        o.stdout
    );
    std::fs::write(dir.join("alert.html"), "{% if %}").expect("tpl");
    let bad = Sigov::new()
        .env("SIGOV_MAIL_TEMPLATES", dir.to_str().expect("utf-8"))
        .args(["mail", "preview"])
        .run();
    assert!(
        bad.code == 1 && bad.error_line().contains("mail template `alert.html`"),
        "{bad:#?}"
    );
}

backend_test!(preview_of_a_queued_mail_and_demo_style_file_delivery, |t| {
    seed(&t);
    let dir_tmp = crate::common::tempdir("files");
    let dir = dir_tmp.path().to_path_buf();
    let r = check(
        t.sigov()
            .env("SIGOV_MAIL_TRANSPORT", &format!("file://{}", dir.display())),
        &[],
    );
    assert_eq!(r.code, 0, "{r:#?}");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .expect("mail dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .collect();
    assert_eq!(files.len(), 5);
    let out = dir.join("one.eml");
    t.sigov()
        .args([
            "mail",
            "preview",
            "--id",
            "1",
            "--output",
            out.to_str().expect("utf-8"),
        ])
        .run()
        .ok();
    let eml = std::fs::read_to_string(&out).expect("eml");
    assert!(eml.contains("Message-ID: <sigov.1."), "{eml}");
    let missing = t.sigov().args(["mail", "preview", "--id", "999"]).run();
    assert!(missing.code == 1 && missing.error_line().contains("no mail with id 999"));
});

/// The rendered samples (subject, text, HTML) against their insta snapshots in
/// `tests/snapshots/mail/`, a diff shown when one differs. After a deliberate template change:
/// `INSTA_UPDATE=always cargo test --test it -- mail::template_snapshots` (or `cargo insta
/// review`), then review the diff.
#[test]
fn template_snapshots() {
    let v = Sigov::new()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .args(["--format", "json", "mail", "preview"])
        .run()
        .ok()
        .json();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/snapshots/mail"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for item in v.as_array().expect("previews") {
            let name = item["name"].as_str().expect("name");
            for (part, body) in [
                ("subject", item["subject"].as_str().expect("subject")),
                ("text", item["text"].as_str().expect("text")),
                ("html", item["html"].as_str().expect("html")),
            ] {
                insta::assert_snapshot!(format!("{name}-{part}"), body);
            }
        }
    });
}

#[test]
fn sendmail_transport_pipes_the_message() {
    let dir_tmp = crate::common::tempdir("sendmail");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let script = dir.join("sendmail");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > {0}/args\ncat > {0}/message\n",
            dir.display()
        ),
    )
    .expect("script");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let r = Sigov::new()
        .env(
            "SIGOV_MAIL_TRANSPORT",
            &format!("sendmail://{}", script.display()),
        )
        .args(["mail", "test", "--to", "ops@sigov.test"])
        .run()
        .ok();
    assert!(r.stdout.contains("accepted by"), "{r:#?}");
    let args = std::fs::read_to_string(dir.join("args")).expect("args");
    assert!(args.lines().any(|l| l == "ops@sigov.test"), "{args}");
    assert!(
        args.lines().any(|l| l == "noreply@si-gouvernance.com"),
        "{args}"
    );
    let msg = std::fs::read_to_string(dir.join("message")).expect("message");
    assert!(msg.contains("Auto-Submitted: auto-generated"), "{msg}");
    let missing = Sigov::new()
        .env("SIGOV_MAIL_TRANSPORT", "sendmail:///nonexistent/sendmail")
        .args(["mail", "test", "--to", "ops@sigov.test"])
        .run();
    assert!(
        missing.code == 1
            && missing
                .error_line()
                .contains("sendmail command `/nonexistent/sendmail` not found"),
        "{missing:#?}"
    );
}

backend_test!(config_check_probes_the_relay_without_sending, |t| {
    let relay = Relay::start();
    let site = "https://si-gouvernance.test";
    let v = relay::starttls(t.sigov(), &relay)
        .env("SIGOV_BASE_URL", site)
        .args(["--format", "json", "config", "check"])
        .run()
        .ok()
        .json();
    assert_eq!(v["mail"]["ok"], true, "{v:#}");
    assert!(
        v["mail"]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("(STARTTLS) answers, authenticated")),
        "{v:#}"
    );
    let bad = relay::starttls(t.sigov(), &relay)
        .env("SIGOV_BASE_URL", site)
        .env("SIGOV_SMTP_PASSWORD", "wrong")
        .args(["config", "check"])
        .run();
    assert_eq!(bad.code, 1, "{bad:#?}");
    assert!(
        bad.error_line().contains("refused authentication"),
        "{bad:#?}"
    );
    assert!(relay.received().is_empty(), "a probe sends nothing");
    // What would hold or lose mail fails the check, one line each naming its key: no
    // transport, links to localhost outside a demo database (the default base_url), JSON
    // printed by every cron run.
    let none = t.sigov().args(["config", "check"]).run();
    assert_eq!(none.code, 1, "{none:#?}");
    assert!(none.stdout.contains("mail: not configured"), "{none:#?}");
    let lines: Vec<&str> = none.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{none:#?}");
    assert!(lines[0].starts_with("sigov: mail.transport (SIGOV_MAIL_TRANSPORT) is not set"));
    assert!(
        lines[1].starts_with("sigov: mail.base_url (SIGOV_BASE_URL) is `http://localhost:8000`")
    );
    let dir_tmp = crate::common::tempdir("cfg-json");
    let dir = dir_tmp.path().to_path_buf();
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("sigov.toml");
    std::fs::write(&file, "[output]\nformat = \"json\"\n").expect("config");
    let json = relay::starttls(t.sigov(), &relay)
        .env("SIGOV_BASE_URL", site)
        .env("SIGOV_CONFIG", file.to_str().expect("utf-8"))
        .args(["config", "check"])
        .run();
    assert_eq!(json.code, 1, "{json:#?}");
    assert!(
        json.stdout
            .contains("\"output.format = \\\"json\\\" in the configuration file"),
        "{json:#?}"
    );
    // The same on the command line is for this one command: no problem.
    let flag = relay::starttls(t.sigov(), &relay)
        .env("SIGOV_BASE_URL", site)
        .args(["--format", "json", "config", "check"])
        .run();
    assert_eq!(flag.code, 0, "{flag:#?}");
    // A watched check that nothing runs would be late forever.
    std::fs::write(
        &file,
        "[health]\nchecks = [\"deadlines\", \"task-reminders\"]\n",
    )
    .expect("config");
    let r = relay::starttls(t.sigov(), &relay)
        .env("SIGOV_BASE_URL", site)
        .env("SIGOV_CONFIG", file.to_str().expect("utf-8"))
        .args(["config", "check"])
        .run();
    assert_eq!(r.code, 1, "{r:#?}");
    assert!(
        r.error_line()
            .contains("health.checks names `task-reminders`, which checks.enabled"),
        "{r:#?}"
    );
    // A demo database's links may stay on localhost.
    let demo = TestDb::demo(t.backend, 2);
    let r = relay::starttls(demo.sigov(), &relay)
        .args(["config", "check"])
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
});

/// A claim fetches its rows by id, whatever the queue holds: SQLite has no statistics, and a
/// claim that also repeated the due condition walked every due row of the
/// `(state, next_attempt_at)` index instead (a 300,000-row queue made each claim scan it).
#[test]
fn a_claim_fetches_its_rows_by_id_whatever_the_queue() {
    let demo = TestDb::demo(sigov::db::Backend::Sqlite, 5);
    let mut db = demo.db();
    for n in [1, 100, 500] {
        let plan = sigov::mail::outbox::claim_plan(&mut db, n).expect("plan");
        assert!(
            plan.iter().any(|s| s.contains("INTEGER PRIMARY KEY")),
            "{n} ids: {plan:?}"
        );
        assert!(
            !plan.iter().any(|s| s.contains("INDEX sigov_outbox_due")),
            "{n} ids: {plan:?}"
        );
    }
}

// A claim's pick reads the due index in its order on every backend, so that a claim costs the
// rows it takes, not the rows that wait: behind 40,000 rows (half of them due in one lane),
// no sort and no full scan. PostgreSQL needed `id` in the index for that (without it, every
// due row of the lane was sorted before the first 200 were taken).
backend_test!(a_claims_pick_reads_the_due_index_in_order, |t| {
    use sigov::db::Backend;
    let mut db = t.db();
    for (lane, state, batch) in [("bulk", "pending", 0), ("", "sent", 1)] {
        for chunk in 0..40 {
            let values: Vec<String> = (0..500)
                .map(|i| {
                    let n = batch * 100_000 + chunk * 500 + i;
                    format!(
                        "('{lane}', 'k{n}', '', 'to{n}@example.org', 'alert', '{{}}', '{state}', 0, \
                         '2026-11-22 09:00:00', '2026-11-22 09:00:00', '2026-11-22 09:00:00')"
                    )
                })
                .collect();
            db.batch(&format!(
                "INSERT INTO sigov_outbox (channel, alert_key, recipient_id, recipient_email, kind, payload, \
                 state, attempts, next_attempt_at, created_at, updated_at) VALUES {}",
                values.join(", ")
            ))
            .expect("fill the outbox");
        }
    }
    db.batch(match t.backend {
        Backend::Sqlite => "ANALYZE",
        Backend::Mysql => "ANALYZE TABLE sigov_outbox",
        Backend::Postgres => "ANALYZE sigov_outbox",
    })
    .expect("analyze");
    for state in [
        sigov::states::MailState::Pending,
        sigov::states::MailState::Sending,
    ] {
        let vals = [
            sigov::db::Val::from("bulk"),
            sigov::db::Val::from(state.as_str()),
            sigov::db::Val::from("2026-11-22 10:00:00"),
        ];
        let pick = sigov::mail::outbox::pick_sql(&db, state, 200, false);
        let plan: String = match t.backend {
            Backend::Sqlite => {
                #[derive(diesel::QueryableByName)]
                struct P {
                    #[diesel(sql_type = diesel::sql_types::Text)]
                    detail: String,
                }
                let rows: Vec<P> = db
                    .load(&format!("EXPLAIN QUERY PLAN {pick}"), &vals)
                    .expect("plan");
                rows.into_iter().map(|r| r.detail + "\n").collect()
            }
            Backend::Mysql => {
                #[derive(diesel::QueryableByName)]
                struct P {
                    #[diesel(sql_type = diesel::sql_types::Text, column_name = "EXPLAIN")]
                    plan: String,
                }
                let rows: Vec<P> = db
                    .load(&format!("EXPLAIN FORMAT=JSON {pick}"), &vals)
                    .expect("plan");
                rows.into_iter().map(|r| r.plan).collect()
            }
            Backend::Postgres => {
                #[derive(diesel::QueryableByName)]
                struct P {
                    #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
                    plan: String,
                }
                let rows: Vec<P> = db.load(&format!("EXPLAIN {pick}"), &vals).expect("plan");
                rows.into_iter().map(|r| r.plan + "\n").collect()
            }
        };
        assert!(plan.contains("sigov_outbox_due"), "{state:?}: {plan}");
        for bad in [
            "Sort",
            "Seq Scan",
            "filesort",
            "TEMP B-TREE",
            "SCAN sigov_outbox\n",
        ] {
            assert!(!plan.contains(bad), "{state:?}: {bad} in {plan}");
        }
    }
});

#[derive(diesel::QueryableByName)]
struct Queued {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    payload: String,
    #[diesel(sql_type = diesel::sql_types::Text, deserialize_as = sigov::db::text::Lossy)]
    body: String,
}

fn preview(t: &TestDb, id: i64) -> String {
    t.sigov()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .args(["mail", "preview", "--id", &id.to_string()])
        .run()
        .ok()
        .stdout
}

// A team's mails about one alert share one snapshot of what they show; each row keeps its
// recipient and message. A queued mail shows what was true when its alert was made, whatever
// the application does meanwhile (project renamed, alert rows deleted), and a row queued
// before snapshots (the whole payload in the row) renders the same.
backend_test!(
    queued_mails_share_a_snapshot_that_outlives_the_application_rows,
    |t| {
        seed(&t);
        let r = check(t.sigov(), &["--no-mail"]);
        assert_eq!(r.code, 0, "{r:#?}");
        assert_eq!(states(&t, "pending"), 5);
        // Admin, resp and membre of P7 share one; admin and resp of the hostile project another.
        assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_mail_snapshot"), 2);
        let queued: Vec<Queued> = t
            .db()
            .load(
                "SELECT o.id AS id, o.payload AS payload, s.body AS body FROM sigov_outbox o \
                 JOIN sigov_mail_snapshot s ON s.id = o.snapshot_id ORDER BY o.id",
                &[],
            )
            .expect("queued mail");
        assert_eq!(queued.len(), 5);
        let before: Vec<String> = queued.iter().map(|q| preview(&t, q.id)).collect();
        assert!(before.iter().filter(|p| p.contains("R&D <Alpha>")).count() == 3);
        t.exec(&format!(
            "UPDATE core_projet SET nom = 'Renamed' WHERE id = '{P7}'"
        ));
        t.exec("DELETE FROM core_alerteprojet");
        // One row back to the form queued before snapshots: the whole payload, no snapshot.
        let old = &queued[0];
        let mut whole: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&old.body).expect("snapshot JSON");
        let own: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&old.payload).expect("payload JSON");
        assert!(
            own.contains_key("message") && own.contains_key("recipient"),
            "{own:?}"
        );
        assert!(!whole.contains_key("recipient"), "{whole:?}");
        whole.extend(own);
        t.db()
            .execute(
                "UPDATE sigov_outbox SET payload = ?, snapshot_id = NULL WHERE id = ?",
                &[
                    sigov::db::Val::Text(serde_json::Value::Object(whole).to_string()),
                    sigov::db::Val::Int(old.id),
                ],
            )
            .expect("old-form row");
        let after: Vec<String> = queued.iter().map(|q| preview(&t, q.id)).collect();
        assert_eq!(before, after);
        let relay = Relay::start();
        let sent = t
            .sigov()
            .env("SIGOV_MAIL_TRANSPORT", &relay.plain_url())
            .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
            .args(["mail", "flush"])
            .run();
        assert_eq!(sent.code, 0, "{sent:#?}");
        let got = relay.received();
        assert_eq!(got.len(), 5);
        assert_eq!(
            got.iter()
                .filter(|m| m.part("text/plain").contains("R&D <Alpha>"))
                .count(),
            3
        );
        assert!(!got.iter().any(|m| m.part("text/plain").contains("Renamed")));
    }
);
