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
    let secret = sigov::reply::token::decode(&s[0].meta_value).expect("hex");
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
            sigov::reply::token::parse(&secret, "alertes@example.org", &reply),
            Some((sigov::reply::token::Purpose::Reply, id)),
            "{reply}"
        );
        let unsub = header("List-Unsubscribe");
        assert!(
            unsub.starts_with("<mailto:alertes+u") && unsub.ends_with("@example.org?subject=STOP>"),
            "{unsub}"
        );
        assert!(text.contains("par OK si l'alerte est prise en charge"));
        seen += 1;
    }
    assert!(seen > 3, "{seen} mails");
}

crate::backend_test!(every_mail_says_where_to_answer, fn super::headers_of_every_mail);
