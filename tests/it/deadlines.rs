//! `sigov check deadlines` on hand-built data, on every backend.

use crate::backend_test;
use crate::common::*;

const P7: &str = "10000000000000000000000000000007";
const P3: &str = "10000000000000000000000000000003";
const P1: &str = "10000000000000000000000000000001";
const P0: &str = "10000000000000000000000000000000";
const PLATE: &str = "1000000000000000000000000000000f";
const P5: &str = "10000000000000000000000000000005";

fn seed(t: &TestDb) {
    let mut d = Data::new(t);
    d.project(P7, "R&D <Alpha> 🚀", Some("2026-11-29"));
    d.project(P3, "L'Été indien", Some("2026-11-25"));
    d.project(P1, "Dernière Ligne Droite", Some("2026-11-23"));
    d.project(P0, "Projet Zéro-Jour", Some("2026-11-22"));
    d.project(PLATE, "Déjà-vu & Cie", Some("2026-11-21"));
    d.project(P5, "Rattrapage", Some("2026-11-27"));
    for p in [P7, P3, P1, P0, PLATE, P5] {
        d.member(&format!("a{}", &p[1..]), p, RESP, true);
        d.member(&format!("b{}", &p[1..]), p, MEMBER, false);
        d.member(&format!("c{}", &p[1..]), p, INACTIVE, false);
    }
}

backend_test!(reference_profile_rows_and_idempotence, |t| {
    seed(&t);
    let r = t.check("reference", &[]);
    let c = &r["counters"];
    // J-7: createur + responsable + 2 members; J-3, J-1, overdue: createur + responsable.
    assert_eq!(c["by_type"]["ECHEANCE_J7"], 4, "{r:#}");
    assert_eq!(c["by_type"]["ECHEANCE_J3"], 2);
    assert_eq!(c["by_type"]["ECHEANCE_J1"], 2);
    assert_eq!(c["by_type"]["ECHEANCE_DEPASSEE"], 2);
    assert_eq!(c["created"], 10);
    assert_eq!(c["candidates"], 6);
    let rows = alerts(&t);
    assert_eq!(rows.len(), 10);
    let j7_member = rows
        .iter()
        .find(|r| r.0 == "ECHEANCE_J7" && r.1 == "membre")
        .unwrap();
    assert_eq!(j7_member.2, "⚠️ Projet R&D <Alpha> 🚀 - Fin dans 7 jours");
    assert_eq!(
        j7_member.3,
        "Le projet 'R&D <Alpha> 🚀' se termine dans 7 jours (29/11/2026). Assurez-vous de terminer vos tâches assignées avant la date limite."
    );
    let late = rows
        .iter()
        .find(|r| r.0 == "ECHEANCE_DEPASSEE" && r.1 == "resp")
        .unwrap();
    assert_eq!(
        late.3,
        "Le projet 'Déjà-vu & Cie' est en retard de 1 jour (date de fin prévue : 21/11/2026). En tant que responsable, une action urgente est requise pour rattraper le retard."
    );
    // Web application conventions: unread, no read date, JSON context, integer ids.
    assert_eq!(
        t.count(
            "SELECT COUNT(*) AS n FROM core_alerteprojet WHERE lue = '0' AND date_lecture IS NULL"
        ),
        10
    );
    // Ledger, outbox (the inactive member has an address: the reference mails him too) and run record.
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_alert_ledger WHERE state = 'created'"),
        10
    );
    assert_eq!(
        t.count("SELECT COUNT(*) AS n FROM sigov_outbox WHERE state = 'pending'"),
        10
    );
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_run WHERE status = 'success' AND check_name = 'deadlines'"), 1);

    // Second run the same day: nothing new.
    let again = t.check("reference", &[]);
    assert_eq!(again["counters"]["created"], 0, "{again:#}");
    assert_eq!(again["counters"]["duplicates"], 10);
    assert_eq!(alerts(&t).len(), 10);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_run"), 2);
});

backend_test!(dry_run_writes_nothing, |t| {
    seed(&t);
    let r = t.check("reference", &["--dry-run"]);
    assert_eq!(r["dry_run"], true);
    assert_eq!(r["counters"]["created"], 10);
    assert_eq!(r["alerts"].as_array().unwrap().len(), 10);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM core_alerteprojet"), 0);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_alert_ledger"), 0);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_outbox"), 0);
    assert_eq!(t.count("SELECT COUNT(*) AS n FROM sigov_run"), 0);
});

backend_test!(recommended_profile_catch_up_j0_inactive, |t| {
    seed(&t);
    let r = t.check("recommended", &[]);
    let c = &r["counters"];
    assert_eq!(c["by_type"]["ECHEANCE_J0"], 2, "{r:#}");
    // J-7 exact (3: inactive skipped) + J-7 caught up at J-5 (3).
    assert_eq!(c["by_type"]["ECHEANCE_J7"], 6);
    assert_eq!(
        c["skipped"]["inactive_recipient"], 2,
        "the inactive member is on the team of the two J-7 alerts"
    );
    let rows = alerts(&t);
    let caught = rows
        .iter()
        .find(|r| r.0 == "ECHEANCE_J7" && r.2.contains("Rattrapage") && r.1 == "resp")
        .unwrap();
    assert_eq!(caught.2, "⚠️ Projet Rattrapage - Fin dans 5 jours");
    assert!(caught
        .3
        .starts_with("Le projet 'Rattrapage' se termine dans 5 jours (27/11/2026). "));
    assert!(!rows.iter().any(|r| r.1 == "inactif"));
    // J-3 on d=3 supersedes nothing; J-1 on d=1 supersedes J-7 and J-3 for each recipient.
    assert!(c["superseded"].as_u64().unwrap() >= 4, "{r:#}");
    let again = t.check("recommended", &[]);
    assert_eq!(again["counters"]["created"], 0);
    assert_eq!(again["counters"]["superseded"], 0);
    // Moving a deadline re-arms its milestones.
    t.exec(&format!(
        "UPDATE core_projet SET date_fin = '2026-11-28' WHERE id = '{P7}'"
    ));
    let moved = t.check("recommended", &[]);
    assert_eq!(moved["counters"]["by_type"]["ECHEANCE_J7"], 3, "{moved:#}");
});

backend_test!(query_count_does_not_grow_with_data, |t| {
    let _ = &t;
    let mut counts = Vec::new();
    for scale in [30u32, 300] {
        let demo = TestDb::empty(t.backend);
        let url = demo.url.clone();
        let r = Sigov::new()
            .args([
                "demo",
                "--db",
                &url,
                "--scale",
                &scale.to_string(),
                "--format",
                "json",
                "--date",
                "2026-11-22",
                "--no-check",
            ])
            .run()
            .ok();
        assert!(r.stdout.contains("\"projects\""), "{r:#?}");
        let c = demo.check("recommended", &[]);
        assert!(c["counters"]["created"].as_u64().unwrap() > 0);
        counts.push(c["counters"]["queries"].as_u64().unwrap());
    }
    assert_eq!(
        counts[0], counts[1],
        "statements per check must not depend on data size"
    );
});
