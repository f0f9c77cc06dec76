//! Maintenance contracts: J-30 before the end (`CONTRAT_EXPIRATION`) and expired
//! (`CONTRAT_EXPIRE`), to the superusers and the project's responsable. The reference alerts
//! each once ever, whatever the age; the recommended profile keys them by end date, catches up
//! missed milestones, bounds the expired look-back and lets a renewal silence them.

use super::settings::Settings;
use crate::rules::Rules;
use crate::rules::{
    fr_date, hyphenate, Ahead, Ctx, Decisions, Dedup, Engine, Person, ProjectInfo, Recipients,
    Role, Seen, SeenSpec, Span, Subject, Target, Texts,
};
use crate::states::Niveau;
use chrono::NaiveDate;
use serde_json::json;

/// The check's name.
pub const CHECK: &str = "contracts";
pub const EXPIRING: &str = "CONTRAT_EXPIRATION";
pub const EXPIRED: &str = "CONTRAT_EXPIRE";

/// A contract whose end is near or past.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub contrat_id: String,
    pub type_garantie: String,
    pub date_debut: String,
    pub date_fin: String,
    pub projet: ProjectInfo,
    pub responsable: Option<Person>,
    /// A newer contract of the same project and type exists.
    pub renewed: bool,
}

/// `get_type_garantie_display()`: the label, or the raw code when it is not a known choice.
pub fn type_label(code: &str) -> &str {
    match code {
        "CORRECTIVE" => "Maintenance Corrective",
        "EVOLUTIVE" => "Maintenance Évolutive",
        other => other,
    }
}

fn entity(projet_id: &str, ctx: &Ctx) -> Option<String> {
    ctx.str("contrat_id").map(|c| format!("{projet_id}/{c}"))
}

fn discriminators(typ: &str, ctx: &Ctx) -> Vec<String> {
    let mut d = vec![String::new()];
    if let Some(end) = ctx
        .str("date_fin")
        .and_then(crate::clock::parse_stored_date)
    {
        if typ == EXPIRED {
            d.push(format!("end={end}"));
        } else if let Some(m) = if ctx.has("jalon") {
            ctx.i64("jalon")
        } else {
            ctx.i64("jours_restants")
        } {
            d.push(format!("J{m}:due={end}"));
        }
    }
    d
}

/// The latest end date that can alert today (the last milestone).
pub fn horizon(rules: &Rules, set: &Settings, today: NaiveDate) -> NaiveDate {
    let m = set.milestones.first().copied().unwrap_or(30);
    rules.placement(CHECK).horizon(today, m)
}

/// The earliest end date an expired contract can alert for; `None`: any age.
pub fn expired_since(set: &Settings, today: NaiveDate) -> Option<NaiveDate> {
    set.expired_lookback_days
        .and_then(|l| today.checked_sub_days(chrono::Days::new(u64::from(l))))
}

pub fn seen_spec(rules: &Rules, set: &Settings, today: NaiveDate) -> SeenSpec {
    // Once ever (the reference) or without a look-back bound: the whole history.
    let since = match (rules.keyed_by_due_date, set.expired_lookback_days) {
        (true, Some(l)) => {
            let m = set.milestones.first().copied().unwrap_or(30);
            let early = rules.placement(CHECK).earliest_firing(today, m);
            today
                .checked_sub_days(chrono::Days::new(u64::from(l.max(m)) + 1))
                .map(|s| s.min(early.pred_opt().unwrap_or(early)))
        }
        _ => None,
    };
    SeenSpec {
        check: CHECK,
        keys_of_any_date: &[],
        target: Target::Alerte,
        types: vec![EXPIRING.to_owned(), EXPIRED.to_owned()],
        since,
        entity,
        discriminators,
    }
}

fn expiring_texts(c: &Candidate, end: NaiveDate, span: &Span, jalon: Option<u32>) -> Texts {
    let d = span.count;
    let when = match span.ahead() {
        Ahead::Today => "expire aujourd'hui".to_owned(),
        Ahead::On(day) => format!("expire {day}"),
        Ahead::Tomorrow | Ahead::In(_) => format!("expire dans {}", span.amount()),
    };
    let mut context = json!({
        "contrat_id": hyphenate(&c.contrat_id),
        "type_garantie": c.type_garantie,
        "date_fin": end.to_string(),
        "jours_restants": d,
        "type_alerte": EXPIRING,
    });
    if let Some(m) = jalon {
        context["jalon"] = json!(m);
    }
    Texts {
        alert_type: EXPIRING.to_owned(),
        niveau: Some(Niveau::Warning),
        titre: "⚠️ Contrat de maintenance proche de l'expiration".to_owned(),
        truncated: false,
        fixed: format!(
            "Le contrat de maintenance {} du projet '{}' {when} (date d'expiration : {}). Veuillez prévoir le renouvellement ou la clôture du contrat.",
            type_label(&c.type_garantie),
            c.projet.nom,
            fr_date(end)
        ),
        sentences: Vec::new(),
        context: std::sync::Arc::new(context),
    }
}

fn expired_texts(c: &Candidate, end: NaiveDate, late: &Span) -> Texts {
    Texts {
        alert_type: EXPIRED.to_owned(),
        niveau: Some(Niveau::Danger),
        titre: "🔴 Contrat de maintenance expiré".to_owned(),
        truncated: false,
        fixed: format!(
            "Le contrat de maintenance {} du projet '{}' a expiré depuis {} (date d'expiration : {}). Action urgente requise : renouvellement ou clôture du contrat.",
            type_label(&c.type_garantie),
            c.projet.nom,
            late.amount(),
            fr_date(end)
        ),
        sentences: Vec::new(),
        context: std::sync::Arc::new(json!({
            "contrat_id": hyphenate(&c.contrat_id),
            "type_garantie": c.type_garantie,
            "date_fin": end.to_string(),
            "jours_retard": -late.count,
            "type_alerte": EXPIRED,
        })),
    }
}

/// `superusers`: every user with `is_superuser = 1`.
pub fn evaluate<I>(
    cands: I,
    superusers: &[Person],
    rules: &Rules,
    set: &Settings,
    today: NaiveDate,
    seen: &Seen,
) -> Decisions
where
    I: IntoIterator<Item = Candidate>,
{
    let mut e = Engine::new(rules, today, seen);
    let once_ever = !rules.keyed_by_due_date;
    let oldest_expired = expired_since(set, today);
    for c in cands {
        let what = format!("contract {} of project `{}`", c.contrat_id, c.projet.nom);
        let (Some(start), Some(end)) = (
            e.date(CHECK, &what, &c.date_debut),
            e.date(CHECK, &what, &c.date_fin),
        ) else {
            continue;
        };
        let mut span = e.span(CHECK, end);
        let d = span.days;
        // Future-start contracts are in neither pass (as the reference).
        let active = start <= today && d >= 0;
        let expired = d < 0;
        let milestone = if active {
            e.milestone(CHECK, &set.milestones, &mut span, rules.catch_up)
        } else {
            None
        };
        let due = match (milestone.is_some(), expired) {
            (true, _) => true,
            (false, true) => oldest_expired.is_none_or(|o| end >= o),
            _ => false,
        };
        if !due {
            continue;
        }
        if set.renewal_covers && c.renewed {
            e.out.counters.skip("renewed");
            continue;
        }
        let mut r = Recipients::default();
        for p in superusers {
            if set.active_superusers && !p.active() {
                continue;
            }
            r.add(p, Role::Admin);
        }
        if let Some(p) = &c.responsable {
            r.add(p, Role::Responsable);
        }
        let r = e.active_only(r);
        let subject = Subject {
            check: CHECK,
            target: Target::Alerte,
            entity: format!("{}/{}", c.projet.id, hyphenate(&c.contrat_id)),
            entity_id: &c.contrat_id,
            projet: &c.projet,
            etape_id: None,
            etape_ordre: None,
            // Alerted once: nothing repeats for an acknowledgement to hold.
            arm: String::new(),
        };
        let n = match milestone {
            Some((m, passed)) => {
                if once_ever {
                    e.emit(
                        &subject,
                        &expiring_texts(&c, end, &span, None),
                        &r,
                        Dedup::Once(""),
                    )
                } else {
                    let disc = |m: u32| format!("J{m}:due={end}");
                    let n = e.emit(
                        &subject,
                        &expiring_texts(&c, end, &span, Some(m)),
                        &r,
                        Dedup::Once(&disc(m)),
                    );
                    for p in passed {
                        e.supersede(&subject, EXPIRING, &r, &disc(p));
                    }
                    n
                }
            }
            None => {
                let disc = if once_ever {
                    String::new()
                } else {
                    format!("end={end}")
                };
                e.emit(
                    &subject,
                    &expired_texts(&c, end, &span),
                    &r,
                    Dedup::Once(&disc),
                )
            }
        };
        e.entity_done(n);
    }
    e.finish()
}

#[cfg(test)]
mod tests {
    /// The check's settings for `rules`' profile: the reference's, or its documented defaults.
    fn set(rules: &crate::rules::Rules) -> super::Settings {
        use crate::checks::settings::Configure;
        match rules.profile {
            crate::rules::Profile::Reference => super::Settings::reference(),
            crate::rules::Profile::Recommended => {
                crate::checks::settings::defaults(super::super::settings::KEYS)
            }
        }
    }

    use super::*;
    use crate::rules::tests_support::{person, projet, recommended, today};

    fn cand(start: &str, end: &str) -> Candidate {
        Candidate {
            contrat_id: "0123456789abcdef0123456789abcdef".into(),
            type_garantie: "EVOLUTIVE".into(),
            date_debut: start.into(),
            date_fin: end.into(),
            projet: projet(),
            responsable: Some(person("r1", true)),
            renewed: false,
        }
    }

    fn supers() -> Vec<Person> {
        let mut a = person("admin", true);
        a.is_superuser = true;
        let mut b = person("sa.inactif", false);
        b.is_superuser = true;
        vec![a, b]
    }

    #[test]
    fn j30_on_a_closed_day_moves_and_business_days_count_open_days() {
        let day = |s: &str| crate::clock::parse_stored_date(s).unwrap();
        // A contract ending Monday 30 November 2026: J-30 is Saturday 31 October, so it comes
        // Friday 30 October, saying the true remaining days.
        let moved = Rules {
            milestones_on_working_days: vec![CHECK.to_owned()],
            ..recommended()
        };
        let d = evaluate(
            [cand("2025-01-01", "2026-11-30")],
            &supers(),
            &moved,
            &set(&moved),
            day("2026-10-30"),
            &Seen::default(),
        );
        assert!(!d.alerts.is_empty());
        assert!(
            d.alerts[0].message.contains("expire dans 31 jours"),
            "{}",
            d.alerts[0].message
        );
        // Counting open days: J-30 is 30 open days before (Friday 16 October, with 1 and 11
        // November closed), and says so.
        let business = Rules {
            business_days: vec![CHECK.to_owned()],
            ..recommended()
        };
        let d = evaluate(
            [cand("2025-01-01", "2026-11-30")],
            &supers(),
            &business,
            &set(&business),
            day("2026-10-16"),
            &Seen::default(),
        );
        assert!(
            d.alerts[0].message.contains("expire dans 30 jours ouvrés"),
            "{}",
            d.alerts[0].message
        );
        // An expired one, late in open days.
        let d = evaluate(
            [cand("2025-01-01", "2026-11-27")],
            &supers(),
            &business,
            &set(&business),
            day("2026-12-01"),
            &Seen::default(),
        );
        assert!(
            d.alerts[0]
                .message
                .contains("a expiré depuis 2 jours ouvrés"),
            "{}",
            d.alerts[0].message
        );
    }

    #[test]
    fn reference_j30_and_expired_of_any_age_once_ever() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        let d = evaluate(
            [
                cand("2025-01-01", "2026-12-22"),
                cand("2025-01-01", "2026-12-21"),
                cand("2020-01-01", "2021-01-01"),
                cand("2026-12-01", "2027-01-01"),
            ],
            &supers(),
            &rules,
            &set(&rules),
            today(),
            &Seen::default(),
        );
        assert_eq!(d.alerts.len(), 6, "3 recipients × (J-30 + old expired)");
        let j30 = &d.alerts[0];
        assert_eq!(j30.message, "Le contrat de maintenance Maintenance Évolutive du projet 'R&D <Alpha>' expire dans 30 jours (date d'expiration : 22/12/2026). Veuillez prévoir le renouvellement ou la clôture du contrat.");
        assert_eq!(
            j30.context["contrat_id"],
            "01234567-89ab-cdef-0123-456789abcdef"
        );
        let mut seen = Seen::default();
        for a in &d.alerts {
            seen.add_once(
                &a.recipient_id,
                &format!("p1/{}", hyphenate(&a.entity_id)),
                &a.alert_type,
                "",
            );
        }
        let d = evaluate(
            [cand("2020-01-01", "2021-01-01")],
            &supers(),
            &rules,
            &set(&rules),
            today(),
            &seen,
        );
        assert!(d.alerts.is_empty());
        assert_eq!(d.counters.ignored_entities, 1);
    }

    #[test]
    fn recommended_lookback_catch_up_and_renewal() {
        let rules = recommended();
        let d = evaluate(
            [
                cand("2020-01-01", "2021-01-01"),
                cand("2025-01-01", "2026-11-21"),
                cand("2025-01-01", "2026-12-20"),
            ],
            &supers(),
            &rules,
            &set(&rules),
            today(),
            &Seen::default(),
        );
        assert_eq!(
            d.alerts.len(),
            4,
            "old expiry out of the look-back; no inactive superuser"
        );
        assert!(d
            .alerts
            .iter()
            .any(|a| a.message.contains("a expiré depuis 1 jour ")));
        assert!(d.alerts.iter().any(|a| a
            .message
            .contains("expire dans 28 jours (date d'expiration : 20/12/2026)")));
        let mut c = cand("2025-01-01", "2026-11-21");
        c.renewed = true;
        let d = evaluate(
            [c],
            &supers(),
            &rules,
            &set(&rules),
            today(),
            &Seen::default(),
        );
        assert!(d.alerts.is_empty());
        assert_eq!(d.counters.skipped.get("renewed"), Some(&1));
    }
}
