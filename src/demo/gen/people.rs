//! The people: the reference tables (system and project roles, project statuses, stage types)
//! and the users (the superusers, then regular users, the first six with the edge cases:
//! empty names, quotes, inactive, no or a bad e-mail).

use super::lit::Lit;
use super::sink::Gen;
use super::words::{NOMS, PRENOMS, STATUTS, TYPES_ETAPE};
use anyhow::Result;

/// Superusers: (username, first, last, email, active).
const SUPERUSERS: &[(&str, &str, &str, &str, bool)] = &[
    (
        "admin",
        "Alice",
        "Administratrice",
        "admin@sigov.test",
        true,
    ),
    (
        "sa.helene",
        "Hélène",
        "Faure",
        "helene.faure@sigov.test",
        true,
    ),
    ("sa.noel", "Noël", "Girard", "noel.girard@sigov.test", true),
    ("sa.sansmail", "Agnès", "Ménard", "", true),
    (
        "sa.inactif",
        "Joël",
        "Hérault",
        "joel.herault@sigov.test",
        false,
    ),
];

/// A generated user.
pub(crate) struct User {
    pub(crate) id: String,
    pub(crate) username: String,
}

/// The users a project draws its team and creator from.
pub(crate) struct People {
    pub(crate) supers: Vec<User>,
    pub(crate) users: Vec<User>,
}

/// The roles, project statuses and stage types.
pub(crate) fn reference_tables(g: &mut Gen<'_>) -> Result<()> {
    for (i, (nom, desc, lvl)) in [
        ("DEVELOPPEUR", "Développeur", 1),
        ("CHEF_PROJET", "Chef de projet", 2),
        ("DIRECTION", "Direction", 3),
    ]
    .iter()
    .enumerate()
    {
        g.out(
            "core_rolesysteme",
            vec![
                Lit::Int(i as i64 + 1),
                (*nom).into(),
                (*desc).into(),
                Lit::Int(*lvl),
                g.epoch.into(),
            ],
        )?;
    }
    g.out(
        "core_roleprojet",
        vec![
            Lit::Int(1),
            "RESPONSABLE_PRINCIPAL".into(),
            "Responsable principal du projet".into(),
            g.epoch.into(),
        ],
    )?;
    g.out(
        "core_roleprojet",
        vec![
            Lit::Int(2),
            "MEMBRE".into(),
            "Membre de l'équipe projet".into(),
            g.epoch.into(),
        ],
    )?;
    for (i, (nom, desc, col)) in STATUTS.iter().enumerate() {
        g.out(
            "core_statutprojet",
            vec![
                Lit::Int(i as i64 + 1),
                (*nom).into(),
                (*desc).into(),
                (*col).into(),
                Lit::Int(i as i64 + 1),
            ],
        )?;
    }
    for (i, (nom, col, emo)) in TYPES_ETAPE.iter().enumerate() {
        g.out(
            "core_typeetape",
            vec![
                Lit::Int(i as i64 + 1),
                (*nom).into(),
                format!("Étape {}", nom.to_lowercase()).into(),
                Lit::Int(i as i64 + 1),
                (*col).into(),
                (*emo).into(),
                g.epoch.into(),
            ],
        )?;
    }
    Ok(())
}

/// The superusers and `30 + scale` regular users.
pub(crate) fn users(g: &mut Gen<'_>, scale: u32) -> Result<People> {
    let epoch = g.epoch;
    let mut supers: Vec<User> = Vec::new();
    let user_row = |id: &str,
                    username: &str,
                    first: &str,
                    last: &str,
                    email: &str,
                    sup: bool,
                    active: bool,
                    statut: bool,
                    role: i64|
     -> Vec<Lit> {
        vec![
            id.into(),
            "!".into(),
            sup.into(),
            username.into(),
            first.into(),
            last.into(),
            email.into(),
            sup.into(),
            active.into(),
            epoch.into(),
            "".into(),
            "0.00".into(),
            statut.into(),
            epoch.into(),
            Lit::Int(0),
            Lit::Int(role),
        ]
    };
    for (username, first, last, email, active) in SUPERUSERS {
        let id = g.rng.uuid();
        g.out(
            "core_utilisateur",
            user_row(&id, username, first, last, email, true, *active, true, 3),
        )?;
        supers.push(User {
            id,
            username: (*username).to_owned(),
        });
    }
    let n_users = 30 + scale as usize;
    let mut users: Vec<User> = Vec::with_capacity(n_users);
    for k in 0..n_users {
        let id = g.rng.uuid();
        let (mut first, mut last) = (
            g.rng.pick(PRENOMS).to_string(),
            g.rng.pick(NOMS).to_string(),
        );
        let username = format!("u{k:05}.{}", ascii_slug(&last));
        let mut email = format!("{}.{}{k}@sigov.test", ascii_slug(&first), ascii_slug(&last));
        let mut active = !g.rng.chance(8);
        let statut = !g.rng.chance(4);
        if g.rng.chance(6) {
            email.clear();
        }
        match k {
            0 => first.clear(),
            1 => {
                first.clear();
                last.clear();
            }
            2 => {
                first = "Zoé".into();
                last = "L'Hôte & <Fils>".into();
            }
            3 => active = false,
            4 => email.clear(),
            5 => email = "chloe.oconnor(at)sigov.test".into(),
            _ => {}
        }
        if k < 6 {
            active = k != 3;
        }
        let statut = statut || k < 6;
        let role = if g.rng.chance(20) { 2 } else { 1 };
        g.out(
            "core_utilisateur",
            user_row(
                &id, &username, &first, &last, &email, false, active, statut, role,
            ),
        )?;
        users.push(User { id, username });
    }
    Ok(People { supers, users })
}

fn ascii_slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let base = match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'É' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            c => c,
        };
        if base.is_ascii_alphanumeric() {
            out.push(base.to_ascii_lowercase());
        }
    }
    if out.is_empty() {
        out.push('x');
    }
    out
}
