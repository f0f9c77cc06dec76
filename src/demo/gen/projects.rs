//! The projects: the hand-placed edge cases first, then random ones; each project's row and its
//! team (affectations, the responsable decided by its mode).

use super::lit::Lit;
use super::people::{People, User};
use super::rng::Rng;
use super::sink::Gen;
use super::words::{ACTIONS, CLIENTS, STATUTS, THEMES};
use anyhow::Result;
use chrono::{Days, NaiveDateTime};

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Resp {
    One,
    None,
    Two,
    Ended,
    Createur,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Spend {
    None,
    Pct(i64, i64),
    Exact(i64),
}

pub(crate) struct Spec {
    pub(crate) nom: String,
    pub(crate) statut: &'static str,
    pub(crate) fin: Option<i64>,
    pub(crate) resp: Resp,
    pub(crate) createur: Option<&'static str>,
    pub(crate) team: usize,
    pub(crate) budget_cents: i64,
    pub(crate) spend: Spend,
    pub(crate) devise: &'static str,
    /// (type, start offset, end offset)
    pub(crate) contracts: Vec<(&'static str, i64, i64)>,
    /// Offset of the EN_COURS stage's planned end; None: no planned dates.
    pub(crate) stage: Option<i64>,
    pub(crate) special_tasks: bool,
}

fn edge(nom: &str, statut: &'static str, fin: Option<i64>, resp: Resp) -> Spec {
    Spec {
        nom: nom.to_owned(),
        statut,
        fin,
        resp,
        createur: None,
        team: 3,
        budget_cents: 2_000_000,
        spend: Spend::Pct(20, 60),
        devise: "EUR",
        contracts: vec![],
        stage: None,
        special_tasks: false,
    }
}

/// Hand-placed situations, present at every scale (the first `min(scale, n)` projects).
pub(crate) fn edges() -> Vec<Spec> {
    vec![
        Spec {
            team: 5,
            budget_cents: 1_000_000,
            spend: Spend::Exact(1_250_000),
            contracts: vec![("CORRECTIVE", -335, 30)],
            stage: Some(12),
            special_tasks: true,
            ..edge("R&D <Alpha>", "EN_COURS", Some(7), Resp::One)
        },
        Spec {
            spend: Spend::Pct(90, 99),
            contracts: vec![("EVOLUTIVE", -200, 31)],
            stage: Some(-6),
            ..edge("L'Été indien", "EN_COURS", Some(3), Resp::One)
        },
        Spec {
            team: 2,
            spend: Spend::Pct(75, 89),
            contracts: vec![("CORRECTIVE", -100, 29)],
            ..edge(
                "Opération « Noël » 2026",
                "EN_COURS",
                Some(1),
                Resp::Createur,
            )
        },
        Spec {
            contracts: vec![("EVOLUTIVE", -365, 0)],
            stage: Some(0),
            ..edge("Projet Zéro-Jour", "EN_COURS", Some(0), Resp::One)
        },
        Spec {
            team: 4,
            stage: Some(-1),
            special_tasks: true,
            ..edge("Déjà-vu & Cie", "EN_COURS", Some(-1), Resp::One)
        },
        Spec {
            createur: Some("sa.inactif"),
            stage: Some(-30),
            ..edge("Ancien Système", "EN_COURS", Some(-60), Resp::One)
        },
        Spec {
            budget_cents: 1_500_000,
            spend: Spend::Exact(1_600_025),
            contracts: vec![("CORRECTIVE", -400, -1)],
            ..edge("Sans Échéance", "EN_COURS", None, Resp::One)
        },
        Spec {
            contracts: vec![("EVOLUTIVE", -335, 30)],
            stage: Some(-9),
            special_tasks: true,
            ..edge("Équipe Orpheline", "EN_COURS", Some(7), Resp::None)
        },
        Spec {
            team: 4,
            stage: Some(-2),
            ..edge("Double Pilotage", "EN_COURS", Some(-10), Resp::Two)
        },
        Spec {
            spend: Spend::Pct(101, 130),
            stage: Some(-4),
            special_tasks: true,
            ..edge("Projet Suspendu", "SUSPENDU", Some(-5), Resp::One)
        },
        Spec {
            contracts: vec![("CORRECTIVE", -565, -200), ("EVOLUTIVE", -199, 166)],
            ..edge("Projet Terminé", "TERMINE", Some(-30), Resp::One)
        },
        Spec {
            createur: Some("sa.sansmail"),
            ..edge("Créé par Agnès", "EN_COURS", Some(-4), Resp::One)
        },
        Spec {
            budget_cents: 0,
            spend: Spend::Exact(15_000),
            ..edge("Budget Zéro", "EN_COURS", Some(-15), Resp::One)
        },
        Spec {
            budget_cents: 100_000,
            spend: Spend::Exact(100_150),
            ..edge("Arrondi 0.15", "EN_COURS", Some(-3), Resp::One)
        },
        Spec {
            budget_cents: 300_000,
            spend: Spend::Exact(400_000),
            ..edge("Tiers 33.3", "EN_COURS", Some(60), Resp::One)
        },
        Spec {
            devise: "XOF",
            ..edge("Rattrapage J-5 🚀", "EN_COURS", Some(5), Resp::One)
        },
        Spec {
            team: 2,
            ..edge(
                "Fin de Sprint (créateur membre)",
                "EN_COURS",
                Some(7),
                Resp::One,
            )
        },
        Spec {
            contracts: vec![("CORRECTIVE", 10, 375)],
            ..edge("Planifié J-7", "PLANIFIE", Some(7), Resp::One)
        },
        Spec {
            spend: Spend::Exact(2_000_000),
            contracts: vec![("EVOLUTIVE", -335, 30), ("CORRECTIVE", -700, -336)],
            ..edge("Budget Pile", "EN_COURS", Some(30), Resp::One)
        },
        Spec {
            spend: Spend::Pct(101, 160),
            stage: Some(-3),
            ..edge("Responsable Parti", "EN_COURS", Some(-2), Resp::Ended)
        },
    ]
}

pub(crate) fn random_spec(rng: &mut Rng, i: usize) -> Spec {
    let statut = rng.weighted(&[
        ("EN_COURS", 50),
        ("PLANIFIE", 10),
        ("IDEE", 6),
        ("AFFECTE", 6),
        ("SUSPENDU", 8),
        ("TERMINE", 14),
        ("ARCHIVE", 6),
    ]);
    let fin = match rng.weighted(&[
        (0u8, 6),
        (1, 5),
        (2, 5),
        (3, 5),
        (4, 4),
        (5, 6),
        (6, 33),
        (7, 28),
        (8, 8),
    ]) {
        0 => None,
        1 => Some(7),
        2 => Some(3),
        3 => Some(1),
        4 => Some(0),
        5 => Some(*rng.pick(&[2, 4, 5, 6])),
        6 => Some(-rng.range(1, 60)),
        7 => Some(rng.range(8, 365)),
        _ => Some(rng.range(366, 1500)),
    };
    let resp = rng.weighted(&[
        (Resp::One, 86),
        (Resp::None, 6),
        (Resp::Two, 2),
        (Resp::Ended, 3),
        (Resp::Createur, 3),
    ]);
    let budget_cents = if rng.chance(40) {
        rng.range(5, 300) * 100_000
    } else {
        rng.range(500_000, 30_000_000)
    };
    let spend = rng.weighted(&[
        (Spend::None, 10),
        (Spend::Pct(5, 74), 52),
        (Spend::Pct(75, 89), 10),
        (Spend::Pct(90, 99), 10),
        (Spend::Pct(100, 100), 3),
        (Spend::Pct(101, 160), 15),
    ]);
    let mut contracts = Vec::new();
    for _ in 0..rng.weighted(&[(0usize, 55), (1, 35), (2, 10)]) {
        let typ = *rng.pick(&["CORRECTIVE", "EVOLUTIVE"]);
        let c = match rng.weighted(&[(0u8, 15), (1, 30), (2, 45), (3, 10)]) {
            0 => (typ, -rng.range(100, 700), 30),
            1 => {
                let end = -rng.range(1, 400);
                (typ, end - rng.range(180, 700), end)
            }
            2 => {
                let mut end = rng.range(0, 400);
                if end == 30 {
                    end = 31;
                }
                (typ, -rng.range(1, 700), end)
            }
            _ => {
                let start = rng.range(1, 120);
                (typ, start, start + rng.range(180, 700))
            }
        };
        contracts.push(c);
    }
    let stage = rng
        .chance(65)
        .then(|| rng.weighted(&[(0u8, 45), (1, 10), (2, 45)]))
        .map(|k| match k {
            0 => -rng.range(1, 45),
            1 => 0,
            _ => rng.range(1, 90),
        });
    Spec {
        nom: format!("{} {} {:05}", rng.pick(ACTIONS), rng.pick(THEMES), i),
        statut,
        fin,
        resp,
        createur: None,
        team: rng.range(1, 5) as usize,
        budget_cents,
        spend,
        devise: rng.weighted(&[("EUR", 85), ("USD", 8), ("XOF", 7)]),
        contracts,
        stage,
        special_tasks: false,
    }
}

/// One generated project, as the rows that point to it need it.
pub(crate) struct Project {
    pub(crate) pid: String,
    pub(crate) spec: Spec,
    pub(crate) createur_id: String,
    pub(crate) created: NaiveDateTime,
    /// Its team's user ids, the responsable(s) first.
    pub(crate) team: Vec<String>,
}

/// Project `i`: its row and its affectations.
pub(crate) fn project(
    g: &mut Gen<'_>,
    people: &People,
    edges: &[Spec],
    i: usize,
) -> Result<Project> {
    let (supers, users) = (&people.supers, &people.users);
    let creators: Vec<&User> = supers
        .iter()
        .filter(|u| ["admin", "sa.helene", "sa.noel"].contains(&u.username.as_str()))
        .collect();
    let spec = match edges.get(i) {
        Some(e) => Spec {
            contracts: e.contracts.clone(),
            nom: e.nom.clone(),
            ..*e
        },
        None => random_spec(&mut g.rng, i),
    };
    let pid = g.rng.uuid();
    let createur: &User = match spec.createur {
        Some(name) => supers
            .iter()
            .find(|u| u.username == name)
            .unwrap_or(creators[0]),
        None => creators[g.rng.below(creators.len() as u64) as usize],
    };
    let statut_id = STATUTS.iter().position(|s| s.0 == spec.statut).unwrap_or(3) as i64 + 1;
    let age = g.rng.range(60, 700);
    let created = g.at(-age, 9) + chrono::Duration::seconds(i as i64);
    let duree = g.rng.range(30, 400);
    let date_fin = spec.fin.map(|f| g.day(f));
    let date_debut = date_fin.and_then(|f| f.checked_sub_days(Days::new(duree as u64)));
    let budget = spec.budget_cents;
    let client = *g.rng.pick(CLIENTS);
    let priorite = *g.rng.pick(&["BASSE", "MOYENNE", "HAUTE", "CRITIQUE"]);
    g.out(
        "core_projet",
        vec![
            pid.clone().into(),
            spec.nom.clone().into(),
            format!("Projet « {} » pour le client.", spec.nom).into(),
            client.into(),
            cents(budget).into(),
            spec.devise.into(),
            priorite.into(),
            created.into(),
            created.into(),
            "".into(),
            createur.id.clone().into(),
            Lit::Int(statut_id),
            false.into(),
            Lit::Int(duree),
            date_debut.into(),
            date_fin.into(),
        ],
    )?;

    // Team: distinct regular users; the responsable decided by the mode.
    let mut team: Vec<&User> = Vec::new();
    while team.len() < spec.team.min(users.len()) {
        let u = &users[g.rng.below(users.len() as u64) as usize];
        if i == 0 && team.len() < 4 {
            // The special users (empty names, quotes, inactive, no e-mail) sit on the first project.
            let u = &users[team.len() * 2 % 6 + usize::from(team.len() >= 3)];
            if !team.iter().any(|t| t.id == u.id) {
                team.push(u);
                continue;
            }
        }
        if !team.iter().any(|t| t.id == u.id) {
            team.push(u);
        }
    }
    let aff_start = created + chrono::Duration::days(1);
    let affect = |g: &mut Gen<'_>, uid: &str, resp: bool, ended: bool| -> Result<()> {
        let fin: Lit = if ended {
            (aff_start + chrono::Duration::days(20)).into()
        } else {
            Lit::Null
        };
        let id = g.rng.uuid();
        g.out(
            "core_affectation",
            vec![
                id.into(),
                resp.into(),
                Lit::Int(100),
                aff_start.into(),
                fin,
                pid.clone().into(),
                uid.into(),
                "".into(),
                Lit::Int(if resp { 1 } else { 2 }),
            ],
        )
    };
    for (k, u) in team.iter().enumerate() {
        let resp = match spec.resp {
            Resp::One | Resp::Ended => k == 0,
            Resp::Two => k < 2,
            Resp::None | Resp::Createur => false,
        };
        let ended = spec.resp == Resp::Ended && k == 0;
        affect(g, &u.id, resp, ended)?;
    }
    if spec.resp == Resp::Createur || spec.nom.starts_with("Fin de Sprint") {
        affect(g, &createur.id, spec.resp == Resp::Createur, false)?;
    }
    Ok(Project {
        createur_id: createur.id.clone(),
        team: team.iter().map(|u| u.id.clone()).collect(),
        pid,
        spec,
        created,
    })
}

/// An amount in cents as decimal text (`1250.00`).
pub(crate) fn cents(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}
