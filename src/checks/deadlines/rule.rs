//! Project deadlines: J-7 / J-3 / J-1 milestones (plus J-0 and catch-up in the recommended
//! profile) and the daily overdue alert.

use super::settings::Settings;
use crate::rules::alert::{Later, ESCALATION};
use crate::rules::Rules;
use crate::rules::{
    fit_title, fr_date, responsable, Ahead, Audiences, Ctx, Decisions, Dedup, Engine, Member,
    Person, ProjectInfo, Recipients, Role, Seen, SeenSpec, Span, Subject, Target, Texts,
};
use crate::states::Niveau;
use chrono::NaiveDate;
use serde_json::json;

/// The check's name.
pub const CHECK: &str = "deadlines";
pub const OVERDUE: &str = "ECHEANCE_DEPASSEE";

/// A project in progress with a deadline, and the people around it.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub projet: ProjectInfo,
    /// `date_fin` as stored (text); parsed by the rule so bad values are counted, not fatal.
    pub date_fin: String,
    pub createur_id: String,
    pub createur: Option<Person>,
    /// Active affectations ordered by affectation id: (is responsable principal, user).
    pub team: Vec<Member>,
}

/// The type code of a milestone (`ECHEANCE_J7`, ..., `ECHEANCE_J0`).
pub fn milestone_type(m: u32) -> String {
    format!("ECHEANCE_J{m}")
}

/// Every type this check can write, for the de-duplication lookup.
pub fn all_types(set: &Settings) -> Vec<String> {
    let mut t: Vec<String> = set.milestones.iter().map(|m| milestone_type(*m)).collect();
    for m in [7, 3, 1] {
        if !t.contains(&milestone_type(m)) {
            t.push(milestone_type(m));
        }
    }
    t.push(OVERDUE.to_owned());
    t
}

/// How far back alerts and ledger keys can matter for today's decisions, in days.
pub fn lookback_days(rules: &Rules, set: &Settings) -> i64 {
    let m = set.milestones.iter().copied().max().unwrap_or(7) as i64;
    m.max(rules.repeat_every_days as i64) + 1
}

fn largest(set: &Settings) -> u32 {
    set.milestones.iter().copied().max().unwrap_or(7)
}

/// The latest `date_fin` that can produce an alert today (further on the business calendar).
pub fn horizon(rules: &Rules, set: &Settings, today: NaiveDate) -> NaiveDate {
    rules.placement(CHECK).horizon(today, largest(set))
}

fn due_discriminator(_: &str, ctx: &Ctx) -> Vec<String> {
    ctx.str("date_fin")
        .and_then(crate::clock::parse_stored_date)
        .map(|d| vec![format!("due={d}")])
        .unwrap_or_default()
}

/// Existing rows that matter: this check's types in `core_alerteprojet`, by project.
pub fn seen_spec(rules: &Rules, set: &Settings, today: NaiveDate) -> SeenSpec {
    SeenSpec {
        check: CHECK,
        keys_of_any_date: crate::rules::escalation_keys(rules, CHECK, &[], &[ESCALATION]),
        target: Target::Alerte,
        types: all_types(set),
        since: today
            .checked_sub_days(chrono::Days::new(lookback_days(rules, set) as u64))
            .map(|s| {
                let early = rules.placement(CHECK).earliest_firing(today, largest(set));
                s.min(early.pred_opt().unwrap_or(early))
            }),
        entity: crate::rules::entity_column,
        discriminators: due_discriminator,
    }
}

/// Createur, responsable and (at team milestones) the team.
fn recipients(c: &Candidate, with_team: bool) -> Recipients {
    let mut r = Recipients::createur_and_responsable(c.createur.as_ref(), responsable(&c.team));
    if with_team {
        for (_, p) in &c.team {
            r.add(p, Role::Team);
        }
    }
    r
}

fn roles(s: [&str; 3]) -> Vec<(Role, String)> {
    vec![
        (Role::Responsable, s[0].to_owned()),
        (Role::Createur, s[1].to_owned()),
        (Role::Team, s[2].to_owned()),
    ]
}

fn overdue_texts(nom: &str, date_fin: NaiveDate, late: &Span) -> Texts {
    let n = -late.count;
    let (titre, truncated) = fit_title("🔴 Projet ", nom, " - EN RETARD");
    Texts {
        alert_type: OVERDUE.to_owned(),
        niveau: Some(Niveau::Danger),
        titre,
        truncated,
        fixed: format!(
            "Le projet '{nom}' est en retard de {} (date de fin prévue : {}). ",
            late.amount(),
            fr_date(date_fin)
        ),
        sentences: roles([
            "En tant que responsable, une action urgente est requise pour rattraper le retard.",
            "En tant qu'administrateur, veuillez prendre les mesures nécessaires pour résoudre cette situation.",
            "",
        ]),
        context: std::sync::Arc::new(json!({"jours_retard": n, "date_fin": date_fin.to_string(), "type_alerte": "RETARD"})),
    }
}

fn milestone_texts(nom: &str, date_fin: NaiveDate, m: u32, span: &Span) -> Texts {
    let d = span.count;
    let emoji = match m {
        7.. => "⚠️",
        2..=6 => "🟠",
        _ => "🔴",
    };
    let date = fr_date(date_fin);
    let (suffix, fixed) = match span.ahead() {
        Ahead::Today => (
            " - Fin AUJOURD'HUI".to_owned(),
            format!("Le projet '{nom}' se termine AUJOURD'HUI ({date})! "),
        ),
        Ahead::Tomorrow => (
            " - Fin DEMAIN".to_owned(),
            format!("Le projet '{nom}' se termine DEMAIN ({date})! "),
        ),
        Ahead::In(n) => (
            format!(" - Fin dans {n}"),
            format!("Le projet '{nom}' se termine dans {n} ({date}). "),
        ),
        Ahead::On(day) => (
            format!(" - Fin {day}"),
            format!("Le projet '{nom}' se termine {day} ({date}). "),
        ),
    };
    let (titre, truncated) = fit_title(&format!("{emoji} Projet "), nom, &suffix);
    let sentences = match m {
        7.. => [
            "En tant que responsable, assurez-vous que toutes les tâches seront terminées à temps.",
            "En tant qu'administrateur, surveillez l'avancement du projet.",
            "Assurez-vous de terminer vos tâches assignées avant la date limite.",
        ],
        2..=6 => [
            "En tant que responsable, assurez-vous que toutes les tâches critiques seront terminées à temps.",
            "En tant qu'administrateur, surveillez de près l'avancement du projet.",
            "Assurez-vous de terminer vos tâches assignées avant la date limite.",
        ],
        _ => [
            "En tant que responsable, action urgente requise pour finaliser toutes les tâches restantes.",
            "En tant qu'administrateur, intervention urgente nécessaire pour assurer la livraison.",
            "Assurez-vous de terminer vos tâches assignées avant la date limite.",
        ],
    };
    Texts {
        alert_type: milestone_type(m),
        niveau: Some(if m <= 1 {
            Niveau::Danger
        } else {
            Niveau::Warning
        }),
        titre,
        truncated,
        fixed,
        sentences: roles(sentences),
        context: std::sync::Arc::new(
            json!({"jours_restants": d, "date_fin": date_fin.to_string(), "type_alerte": format!("J-{m}")}),
        ),
    }
}

/// Evaluates every candidate; `seen` holds what was already recorded.
/// Evaluates every candidate; `seen` holds what was already recorded, `superusers` the
/// active superusers an escalation rung may add.
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
    for c in cands {
        e.out.counters.candidates += 1;
        let what = format!("project `{}`", c.projet.nom);
        let Some(date_fin) = e.date(CHECK, &what, &c.date_fin) else {
            continue;
        };
        let mut span = e.span(CHECK, date_fin);
        let milestone = if span.days < 0 {
            None
        } else {
            match e.milestone(CHECK, &set.milestones, &mut span, rules.catch_up) {
                Some(m) => Some(m),
                None => continue,
            }
        };
        if c.createur.is_none() {
            log::warn!(
                "{CHECK}: project `{}` names a createur `{}` that does not exist",
                c.projet.nom,
                c.createur_id
            );
            e.out.counters.skip("missing_createur");
        }
        let subject = Subject {
            check: CHECK,
            target: Target::Alerte,
            entity: c.projet.id.clone(),
            entity_id: &c.projet.id,
            projet: &c.projet,
            etape_id: None,
            etape_ordre: None,
            arm: format!("due={date_fin}"),
        };
        let created = match milestone {
            None => {
                let t = Later::new(OVERDUE, || overdue_texts(&c.projet.nom, date_fin, &span));
                let r = e.active_only(recipients(&c, false));
                let n = e.emit(&subject, &t, &r, Dedup::Daily);
                let who = Audiences {
                    createur: c.createur.as_ref(),
                    responsable: responsable(&c.team),
                    team: &c.team,
                    superusers,
                };
                n + e.escalate(&subject, &t, &r, date_fin, &who)
            }
            Some((emit, passed)) => {
                let t = milestone_texts(&c.projet.nom, date_fin, emit, &span);
                let r = e.active_only(recipients(&c, set.team_milestones.contains(&emit)));
                let disc = format!("due={date_fin}");
                let dedup = if rules.keyed_by_due_date {
                    Dedup::Once(&disc)
                } else {
                    Dedup::Daily
                };
                let n = e.emit(&subject, &t, &r, dedup);
                for m in passed {
                    let mut r = recipients(&c, set.team_milestones.contains(&m));
                    if rules.skip_inactive {
                        r.list.retain(|(p, _)| p.active());
                    }
                    e.supersede(&subject, &milestone_type(m), &r, &disc);
                }
                n
            }
        };
        e.entity_done(created);
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

    /// The check without superusers (no escalation reaches them in these tests).
    fn evaluate<I: IntoIterator<Item = Candidate>>(
        c: I,
        r: &Rules,
        t: NaiveDate,
        s: &Seen,
    ) -> Decisions {
        super::evaluate(c, &[], r, &set(r), t, s)
    }
    use crate::rules::Rules;
    use std::rc::Rc;

    fn person(id: &str, first: &str, active: bool) -> Person {
        Person {
            id: id.into(),
            username: id.into(),
            first_name: first.into(),
            last_name: "Test".into(),
            email: format!("{id}@sigov.test"),
            is_superuser: false,
            is_active: active,
            statut_actif: true,
        }
    }

    fn cand(due: &str) -> Candidate {
        Candidate {
            projet: ProjectInfo {
                id: "p1".into(),
                nom: "R&D <Alpha>".into(),
                client: "C".into(),
                statut: "En cours".into(),
            },
            date_fin: due.into(),
            createur_id: "admin".into(),
            createur: Some(person("admin", "Ad", true)),
            team: vec![
                (false, Rc::new(person("m1", "Membre", true))),
                (true, Rc::new(person("r1", "Resp", true))),
                (true, Rc::new(person("r2", "Second", true))),
                (false, Rc::new(person("m2", "Inactif", false))),
            ],
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn recommended() -> Rules {
        crate::rules::tests_support::recommended()
    }

    fn on(day: &str, due: &str, rules: &Rules) -> Vec<(String, String)> {
        let today = crate::clock::parse_stored_date(day).unwrap();
        let mut v: Vec<(String, String)> = evaluate([cand(due)], rules, today, &Seen::default())
            .alerts
            .into_iter()
            .filter(|a| a.recipient_id == "r1")
            .map(|a| (a.alert_type, a.message))
            .collect();
        v.dedup();
        v
    }

    #[test]
    fn a_milestone_on_a_closed_day_fires_on_the_open_day_before() {
        let rules = Rules {
            milestones_on_working_days: vec![CHECK.to_owned()],
            ..recommended()
        };
        // Deadline Monday 30 November 2026: J-1 is Sunday, so it fires Friday 27 and says
        // "lundi"; nothing on the weekend; J-0 on Monday.
        let fri = on("2026-11-27", "2026-11-30", &rules);
        assert_eq!(fri.len(), 1, "{fri:?}");
        assert_eq!(fri[0].0, "ECHEANCE_J1");
        assert!(
            fri[0].1.contains("se termine lundi (30/11/2026)"),
            "{}",
            fri[0].1
        );
        // Over the weekend only catch-up would bring J-1 back (its ledger key, recorded on
        // Friday, makes it a duplicate); exact days alone fire nothing.
        let exact = Rules {
            catch_up: false,
            ..rules.clone()
        };
        assert_eq!(on("2026-11-28", "2026-11-30", &rules)[0].0, "ECHEANCE_J1");
        assert!(on("2026-11-28", "2026-11-30", &exact).is_empty());
        assert!(on("2026-11-29", "2026-11-30", &exact).is_empty());
        assert_eq!(on("2026-11-30", "2026-11-30", &rules)[0].0, "ECHEANCE_J0");
        // J-3 of Thursday 9 April 2026 is Monday 6 April, Easter Monday: fires Friday 3 April.
        assert_eq!(on("2026-04-03", "2026-04-09", &rules)[0].0, "ECHEANCE_J3");
        assert!(on("2026-04-06", "2026-04-09", &exact).is_empty());
        // 14 July 2029 is a Saturday; a deadline on Monday 16 July: J-3 Friday 13 is open and
        // fires on its day; J-1 (Sunday 15) moves to Friday too, so Friday sends J-1 only.
        let fri = on("2029-07-13", "2029-07-16", &rules);
        assert_eq!(fri[0].0, "ECHEANCE_J1", "{fri:?}");
        // New Year: a deadline on Friday 2 January 2026, J-1 (Thursday 1 January, closed)
        // fires on Wednesday 31 December.
        assert_eq!(on("2025-12-31", "2026-01-02", &rules)[0].0, "ECHEANCE_J1");
        // Without the option (the default), the weekend milestone fires on its own day.
        assert_eq!(
            on("2026-11-29", "2026-11-30", &recommended())[0].0,
            "ECHEANCE_J1"
        );
    }

    #[test]
    fn business_days_count_milestones_and_delays_in_open_days() {
        let rules = Rules {
            business_days: vec![CHECK.to_owned()],
            ..recommended()
        };
        // Deadline Monday 30 November: J-3 is three open days before, Wednesday 25.
        let wed = on("2026-11-25", "2026-11-30", &rules);
        assert_eq!(wed[0].0, "ECHEANCE_J3");
        assert!(
            wed[0]
                .1
                .contains("se termine dans 3 jours ouvrés (30/11/2026)"),
            "{}",
            wed[0].1
        );
        let exact = Rules {
            catch_up: false,
            ..rules.clone()
        };
        assert!(on("2026-11-26", "2026-11-30", &exact).is_empty());
        // J-1 is Friday 27: one open day, three calendar days: "lundi".
        let fri = on("2026-11-27", "2026-11-30", &rules);
        assert_eq!(fri[0].0, "ECHEANCE_J1");
        assert!(fri[0].1.contains("se termine lundi"), "{}", fri[0].1);
        // Across Easter: a deadline Tuesday 7 April 2026, J-3 is Wednesday 1 April (Thursday
        // 2, Friday 3, Tuesday 7; Easter Monday closed).
        assert_eq!(on("2026-04-01", "2026-04-07", &rules)[0].0, "ECHEANCE_J3");
        // Late in open days: due Thursday 31 December 2025, on Monday 5 January 2026 it is
        // two open days late (Friday 2 and Monday 5; New Year closed).
        let late = on("2026-01-05", "2025-12-31", &rules);
        assert_eq!(late[0].0, OVERDUE);
        assert!(
            late[0].1.contains("en retard de 2 jours ouvrés"),
            "{}",
            late[0].1
        );
        // Due Friday, seen on Saturday: one open day late at least, never "0 jour".
        let sat = on("2026-11-28", "2026-11-27", &rules);
        assert!(
            sat[0].1.contains("en retard de 1 jour ouvré "),
            "{}",
            sat[0].1
        );
    }

    #[test]
    fn overdue_waits_for_an_open_day_when_the_check_says_so() {
        let rules = Rules {
            daily_on_working_days_only: vec![CHECK.to_owned()],
            ..recommended()
        };
        // Sunday 22 November 2026: the overdue project waits, the J-1 milestone does not.
        let d = evaluate(
            [cand("2026-11-20"), cand("2026-11-23")],
            &rules,
            today(),
            &Seen::default(),
        );
        assert!(
            d.alerts.iter().all(|a| a.alert_type == "ECHEANCE_J1"),
            "{:?}",
            d.alerts
        );
        assert!(!d.alerts.is_empty());
        assert_eq!(
            d.counters.skipped.get("closed_day"),
            Some(&2),
            "createur and responsable"
        );
        // Monday: it is recorded.
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let d = evaluate([cand("2026-11-20")], &rules, monday, &Seen::default());
        assert!(d.alerts.iter().any(|a| a.alert_type == OVERDUE));
        // Without the option (and in the reference) nothing waits.
        let d = evaluate(
            [cand("2026-11-20")],
            &recommended(),
            today(),
            &Seen::default(),
        );
        assert!(d.alerts.iter().any(|a| a.alert_type == OVERDUE));
    }

    #[test]
    fn reference_j7_reaches_createur_responsable_and_team() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        let d = evaluate([cand("2026-11-29")], &rules, today(), &Seen::default());
        assert_eq!(
            d.alerts.len(),
            5,
            "createur, two responsables, two members (inactive included)"
        );
        let by = |id: &str| d.alerts.iter().find(|a| a.recipient_id == id).unwrap();
        assert_eq!(by("admin").message, "Le projet 'R&D <Alpha>' se termine dans 7 jours (29/11/2026). En tant qu'administrateur, surveillez l'avancement du projet.");
        assert!(by("r1").message.ends_with(
            "En tant que responsable, assurez-vous que toutes les tâches seront terminées à temps."
        ));
        assert!(
            by("r2")
                .message
                .ends_with("Assurez-vous de terminer vos tâches assignées avant la date limite."),
            "second responsable is a plain member"
        );
        assert_eq!(by("m1").titre, "⚠️ Projet R&D <Alpha> - Fin dans 7 jours");
        assert_eq!(
            by("m1").context.to_string(),
            r#"{"jours_restants":7,"date_fin":"2026-11-29","type_alerte":"J-7"}"#
        );
        assert_eq!(by("m1").niveau, Some(Niveau::Warning));
    }

    #[test]
    fn reference_exact_days_only() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        for (due, n) in [
            ("2026-11-22", 0),
            ("2026-11-24", 0),
            ("2026-11-27", 0),
            ("2026-11-25", 2),
            ("2026-11-23", 2),
            ("2026-11-21", 2),
        ] {
            let d = evaluate([cand(due)], &rules, today(), &Seen::default());
            assert_eq!(d.alerts.len(), n, "{due}");
        }
        let d = evaluate([cand("2026-11-23")], &rules, today(), &Seen::default());
        assert_eq!(d.alerts[0].titre, "🔴 Projet R&D <Alpha> - Fin DEMAIN");
        assert_eq!(d.alerts[0].niveau, Some(Niveau::Danger));
        let d = evaluate([cand("2026-11-21")], &rules, today(), &Seen::default());
        let a = d.alerts.iter().find(|a| a.recipient_id == "admin").unwrap();
        assert_eq!(a.message, "Le projet 'R&D <Alpha>' est en retard de 1 jour (date de fin prévue : 21/11/2026). En tant qu'administrateur, veuillez prendre les mesures nécessaires pour résoudre cette situation.");
        assert_eq!(
            a.context.to_string(),
            r#"{"jours_retard":1,"date_fin":"2026-11-21","type_alerte":"RETARD"}"#
        );
    }

    #[test]
    fn daily_dedup_against_seen_rows() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        let mut seen = Seen::default();
        seen.add_daily("admin", "p1", OVERDUE, today());
        let d = evaluate([cand("2026-11-20")], &rules, today(), &seen);
        assert_eq!(d.alerts.len(), 1);
        assert_eq!(d.counters.duplicates, 1);
        seen.add_daily("r1", "p1", OVERDUE, today());
        let d = evaluate([cand("2026-11-20")], &rules, today(), &seen);
        assert_eq!(d.alerts.len(), 0);
        assert_eq!(d.counters.ignored_entities, 1);
    }

    #[test]
    fn recommended_catch_up_states_true_remaining_time() {
        let d = evaluate(
            [cand("2026-11-27")],
            &recommended(),
            today(),
            &Seen::default(),
        );
        assert_eq!(d.alerts.len(), 4, "inactive member skipped");
        assert_eq!(d.counters.skipped.get("inactive_recipient"), Some(&1));
        let a = d.alerts.iter().find(|a| a.recipient_id == "admin").unwrap();
        assert_eq!(a.alert_type, "ECHEANCE_J7");
        assert_eq!(a.titre, "⚠️ Projet R&D <Alpha> - Fin dans 5 jours");
        assert!(a
            .message
            .starts_with("Le projet 'R&D <Alpha>' se termine dans 5 jours (27/11/2026). "));
        assert!(a.key.ends_with(":due=2026-11-27"));
        // d = 2: J-3 is emitted, J-7 recorded as superseded for each of its recipients.
        let d = evaluate(
            [cand("2026-11-24")],
            &recommended(),
            today(),
            &Seen::default(),
        );
        assert!(d.alerts.iter().all(|a| a.alert_type == "ECHEANCE_J3"));
        assert_eq!(d.alerts.len(), 2);
        assert_eq!(
            d.superseded.len(),
            4,
            "J-7 superseded for createur, responsables and active members"
        );
    }

    #[test]
    fn recommended_j0_and_rearm_on_moved_deadline() {
        let d = evaluate(
            [cand("2026-11-22")],
            &recommended(),
            today(),
            &Seen::default(),
        );
        assert_eq!(d.alerts[0].alert_type, "ECHEANCE_J0");
        assert_eq!(d.alerts[0].titre, "🔴 Projet R&D <Alpha> - Fin AUJOURD'HUI");
        let mut seen = Seen::default();
        for a in evaluate(
            [cand("2026-11-29")],
            &recommended(),
            today(),
            &Seen::default(),
        )
        .alerts
        {
            seen.add_key(&a.key);
        }
        assert!(
            evaluate([cand("2026-11-29")], &recommended(), today(), &seen)
                .alerts
                .is_empty()
        );
        let moved = evaluate([cand("2026-11-28")], &recommended(), today(), &seen);
        assert_eq!(moved.alerts.len(), 4, "a new due date re-arms J-7");
    }

    #[test]
    fn recommended_repeat_cadence() {
        let mut rules = recommended();
        rules.repeat_every_days = 3;
        let mut seen = Seen::default();
        let two_days_ago = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        seen.add_key(&format!("deadlines:{OVERDUE}:p1:admin:{two_days_ago}"));
        let d = evaluate([cand("2026-11-01")], &rules, today(), &seen);
        assert_eq!(
            d.alerts.len(),
            1,
            "only the responsable: the createur had one two days ago"
        );
    }

    #[test]
    fn bad_dates_and_missing_people_are_counted() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        let mut c = cand("0000-00-00");
        let d = evaluate([c.clone()], &rules, today(), &Seen::default());
        assert_eq!(d.counters.skipped.get("invalid_date"), Some(&1));
        c.date_fin = "1969-12-31".into();
        let d = evaluate([c.clone()], &rules, today(), &Seen::default());
        assert_eq!(d.counters.skipped.get("implausible_date"), Some(&1));
        c.date_fin = "2026-11-21".into();
        c.createur = None;
        c.team.clear();
        let d = evaluate([c], &rules, today(), &Seen::default());
        assert!(d.alerts.is_empty());
        assert_eq!(d.counters.skipped.get("missing_createur"), Some(&1));
        assert_eq!(d.counters.ignored_entities, 1);
    }
}
