//! The money of a project: its maintenance contracts and budget lines (summing exactly to the
//! spend its spec targets).

use super::lit::Lit;
use super::projects::{cents, Project, Spend};
use super::sink::Gen;
use anyhow::Result;

/// The project's maintenance contracts.
pub(crate) fn contracts(g: &mut Gen<'_>, p: &Project) -> Result<()> {
    for (typ, deb, fin) in &p.spec.contracts {
        let id = g.rng.uuid();
        g.out(
            "core_contratgarantie",
            vec![
                id.into(),
                (*typ).into(),
                g.day(*deb).into(),
                g.day(*fin).into(),
                Lit::Int(24),
                "Couverture « standard » & astreinte".into(),
                "".into(),
                p.created.into(),
                p.createur_id.clone().into(),
                p.pid.clone().into(),
            ],
        )?;
    }
    Ok(())
}

/// Budget lines summing exactly to the spend target.
pub(crate) fn budget_lines(g: &mut Gen<'_>, p: &Project) -> Result<()> {
    let budget = p.spec.budget_cents;
    let total = match p.spec.spend {
        Spend::None => 0,
        Spend::Exact(c) => c,
        Spend::Pct(lo, hi) => budget * g.rng.range(lo * 100, hi * 100) / 10_000,
    };
    if total <= 0 {
        return Ok(());
    }
    let k = g.rng.range(1, 4).min(total);
    let mut cuts: Vec<i64> = (0..k - 1).map(|_| g.rng.range(1, total - 1)).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut prev = 0;
    for (n, c) in cuts.iter().chain(std::iter::once(&total)).enumerate() {
        let id = g.rng.uuid();
        let what = g.rng.pick(&[
            "Serveurs & stockage",
            "Licences « Pro »",
            "Prestation d'audit",
        ]);
        g.out(
            "core_lignebudget",
            vec![
                id.into(),
                (if n % 2 == 0 { "MATERIEL" } else { "SERVICE" }).into(),
                cents(c - prev).into(),
                format!("Dépense n°{} : {what}", n + 1).into(),
                (p.created + chrono::Duration::days(10 + n as i64)).into(),
                p.createur_id.clone().into(),
                p.pid.clone().into(),
            ],
        )?;
        prev = *c;
    }
    Ok(())
}
