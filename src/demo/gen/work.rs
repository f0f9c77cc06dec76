//! The work of a project: one stage per type (the current one in progress, earlier ones done,
//! later ones to come), stage tasks (the edge-case ones on the special projects, then random
//! ones), one module with two tasks.

use super::lit::Lit;
use super::people::People;
use super::projects::Project;
use super::sink::Gen;
use super::words::{OBJETS, TYPES_ETAPE, VERBES};
use anyhow::Result;
use chrono::Days;

/// A generated stage: its id and status.
pub(crate) struct Stage {
    pub(crate) id: String,
    pub(crate) statut: &'static str,
}

/// The project's stages, in type order.
pub(crate) fn stages(g: &mut Gen<'_>, p: &Project) -> Result<Vec<Stage>> {
    let spec = &p.spec;
    let cur: usize = match spec.statut {
        "IDEE" | "AFFECTE" => 0,
        "TERMINE" | "ARCHIVE" => 6,
        _ => g.rng.range(0, 5) as usize,
    };
    let mut stages = Vec::with_capacity(6);
    let cur_end = spec.stage;
    for (k, _) in TYPES_ETAPE.iter().enumerate() {
        let sid = g.rng.uuid();
        let statut = if spec.statut == "IDEE" {
            "A_VENIR"
        } else if k < cur {
            "TERMINEE"
        } else if k == cur {
            "EN_COURS"
        } else {
            "A_VENIR"
        };
        let (deb, fin) = match cur_end {
            Some(off) => {
                let end = off + (k as i64 - cur.min(5) as i64) * 21;
                (Some(g.day(end - 20)), Some(g.day(end)))
            }
            None => (None, None),
        };
        let done_at: Lit = if statut == "TERMINEE" {
            (p.created + chrono::Duration::days(10 * (k as i64 + 1))).into()
        } else {
            Lit::Null
        };
        g.out(
            "core_etapeprojet",
            vec![
                sid.clone().into(),
                Lit::Int(k as i64 + 1),
                statut.into(),
                deb.into(),
                fin.into(),
                Lit::Null,
                done_at,
                p.created.into(),
                p.created.into(),
                "".into(),
                p.createur_id.clone().into(),
                p.pid.clone().into(),
                Lit::Int(k as i64 + 1),
            ],
        )?;
        stages.push(Stage { id: sid, statut });
    }
    Ok(stages)
}

/// The stage in progress (or the first one): where special tasks and the module go.
fn current(stages: &[Stage]) -> String {
    stages
        .iter()
        .find(|s| s.statut == "EN_COURS")
        .or(stages.first())
        .map(|s| s.id.clone())
        .unwrap_or_default()
}

/// One stage task.
struct Task<'a> {
    nom: String,
    statut: &'a str,
    /// Due date, in days from today.
    fin: Option<i64>,
    assignee: Option<&'a str>,
    stage: &'a str,
}

fn task(g: &mut Gen<'_>, p: &Project, t: Task<'_>) -> Result<()> {
    let df = t.fin.map(|f| g.day(f));
    // A start some days before the due date (drawn only when there is one).
    let dd = match df {
        Some(f) => {
            let back = g.rng.range(0, 20) as u64;
            f.checked_sub_days(Days::new(back))
        }
        None => None,
    };
    let pct = match t.statut {
        "TERMINEE" => 100,
        "A_FAIRE" => 0,
        _ => 50,
    };
    let id = g.rng.uuid();
    g.out(
        "core_tacheetape",
        vec![
            id.into(),
            t.nom.into(),
            "Tâche générée pour la démo.".into(),
            dd.into(),
            df.into(),
            t.statut.into(),
            "MOYENNE".into(),
            p.created.into(),
            p.created.into(),
            "".into(),
            "".into(),
            p.createur_id.clone().into(),
            t.stage.into(),
            t.assignee.map(Lit::from).unwrap_or(Lit::Null),
            "".into(),
            Lit::Int(pct),
            false.into(),
            "".into(),
        ],
    )
}

/// The project's stage tasks.
pub(crate) fn stage_tasks(
    g: &mut Gen<'_>,
    p: &Project,
    people: &People,
    stages: &[Stage],
) -> Result<()> {
    let (supers, users) = (&people.supers, &people.users);
    let n_tasks = g.rng.range(6, 12);
    let cur_stage = current(stages);
    if p.spec.special_tasks {
        let member = p.team.first().map(String::as_str);
        let special: [(&str, &str, i64, Option<&str>); 5] = [
            (
                "Corriger l'écran <Login> & « Accès »",
                "EN_COURS",
                -1,
                member,
            ),
            ("Rédiger la spécification d'API", "A_FAIRE", -12, None),
            (
                "Migrer la base « Clients » 🚀",
                "BLOQUEE",
                -5,
                Some(users[users.len() - 1].id.as_str()),
            ),
            (
                "Valider le plan de tests",
                "A_FAIRE",
                -3,
                Some(supers[1].id.as_str()),
            ),
            ("Tâche en échec", "ECHEC", -4, member),
        ];
        for (nom, statut, fin, assignee) in special {
            let t = Task {
                nom: nom.into(),
                statut,
                fin: Some(fin),
                assignee,
                stage: &cur_stage,
            };
            task(g, p, t)?;
        }
    }
    for k in 0..n_tasks {
        let stage = &stages[g.rng.below(6) as usize];
        let statut = match stage.statut {
            "TERMINEE" => {
                if g.rng.chance(85) {
                    "TERMINEE"
                } else {
                    *g.rng.pick(&["A_FAIRE", "EN_COURS", "BLOQUEE", "ECHEC"])
                }
            }
            "EN_COURS" => g.rng.weighted(&[
                ("A_FAIRE", 30),
                ("EN_COURS", 30),
                ("TERMINEE", 25),
                ("BLOQUEE", 8),
                ("ECHEC", 7),
            ]),
            _ => g
                .rng
                .weighted(&[("A_FAIRE", 90), ("EN_COURS", 5), ("BLOQUEE", 5)]),
        };
        let fin = match g
            .rng
            .weighted(&[(0u8, 15), (1, 25), (2, 5), (3, 3), (4, 52)])
        {
            0 => None,
            1 => Some(-g.rng.range(1, 90)),
            2 => Some(0),
            3 => Some(1),
            _ => Some(g.rng.range(2, 120)),
        };
        let assignee: Option<&str> = match g.rng.weighted(&[(0u8, 12), (1, 72), (2, 10), (3, 6)]) {
            0 => None,
            1 if !p.team.is_empty() => {
                Some(p.team[g.rng.below(p.team.len() as u64) as usize].as_str())
            }
            2 => Some(users[g.rng.below(users.len() as u64) as usize].id.as_str()),
            _ => Some(supers[g.rng.below(3) as usize].id.as_str()),
        };
        let verbe = g.rng.pick(VERBES);
        let objet = g.rng.pick(OBJETS);
        let t = Task {
            nom: format!("{verbe} {objet} (n°{})", k + 1),
            statut,
            fin,
            assignee,
            stage: &stage.id,
        };
        task(g, p, t)?;
    }
    Ok(())
}

/// One module of the project (created at its current stage) with two tasks: module tasks have
/// an assignee, a due date and a status.
pub(crate) fn module(g: &mut Gen<'_>, p: &Project, stages: &[Stage], module_id: i64) -> Result<()> {
    let nom = *g.rng.pick(&[
        "Module Authentification",
        "Module Rapports & Exports",
        "Module Paiement <Beta>",
    ]);
    g.out(
        "core_moduleprojet",
        vec![
            Lit::Int(module_id),
            nom.into(),
            "Module de la démo.".into(),
            p.created.into(),
            p.created.into(),
            "#3B82F6".into(),
            "📦".into(),
            "".into(),
            p.createur_id.clone().into(),
            current(stages).into(),
            p.pid.clone().into(),
            false.into(),
        ],
    )?;
    for k in 0..2 {
        let statut = *g.rng.pick(&["A_FAIRE", "EN_COURS", "EN_PAUSE", "TERMINEE"]);
        let fin = if g.rng.chance(50) {
            let off = g.rng.range(1, 40);
            Some(g.day(-off))
        } else {
            let off = g.rng.range(0, 60);
            Some(g.day(off))
        };
        let back = g.rng.range(0, 20) as u64;
        let deb = fin.and_then(|f| f.checked_sub_days(Days::new(back)));
        let resp: Lit = p
            .team
            .first()
            .map(|u| Lit::from(u.as_str()))
            .unwrap_or(Lit::Null);
        g.out(
            "core_tachemodule",
            vec![
                format!("Tâche module « {} » & co", k + 1).into(),
                "Tâche de module".into(),
                deb.into(),
                fin.into(),
                statut.into(),
                p.created.into(),
                p.created.into(),
                "".into(),
                "".into(),
                p.createur_id.clone().into(),
                Lit::Int(module_id),
                resp,
                false.into(),
                Lit::Int(if statut == "TERMINEE" { 100 } else { 0 }),
            ],
        )?;
    }
    Ok(())
}
