//! The deterministic generator behind `sigov demo` and the benchmarks: a seeded PRNG drives
//! every choice, rows stream out table by table in batches. One file by what it makes:
//! `people` (reference tables, users), `projects` (projects, their teams), `work` (stages,
//! tasks, modules), `money` (contracts, budget lines); `words` its vocabulary, `columns` the
//! columns of each table, `lit` and `rng` its values and randomness.

mod columns;
mod lit;
mod money;
mod people;
mod projects;
mod rng;
mod sink;
mod words;
mod work;

pub use columns::{columns, ORDER};
pub use lit::{write_literal, Lit, Style};
pub use rng::Rng;
pub use sink::Counts;
use sink::Gen;

use anyhow::Result;
use chrono::NaiveDate;

/// Generates the data set, handing each row to `emit(table, row)` in dependency order per
/// project (every table's rows come after the rows they point to).
pub fn generate(
    scale: u32,
    seed: u64,
    today: NaiveDate,
    emit: &mut dyn FnMut(&'static str, Vec<Lit>) -> Result<()>,
) -> Result<Counts> {
    let mut g = Gen::new(Rng::new(seed), today, emit);
    people::reference_tables(&mut g)?;
    let people = people::users(&mut g, scale)?;
    let specs = projects::edges();
    let mut module_id = 0i64;
    for i in 0..scale as usize {
        let p = projects::project(&mut g, &people, &specs, i)?;
        let stages = work::stages(&mut g, &p)?;
        work::stage_tasks(&mut g, &p, &people, &stages)?;
        module_id += 1;
        work::module(&mut g, &p, &stages, module_id)?;
        money::contracts(&mut g, &p)?;
        money::budget_lines(&mut g, &p)?;
    }
    Ok(g.counts())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(scale: u32, seed: u64) -> (Counts, u64) {
        let mut h: u64 = 0;
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let c = generate(scale, seed, today, &mut |t, row| {
            let mut s = String::from(t);
            for v in &row {
                write_literal(
                    &mut s,
                    v,
                    Style {
                        backslash: true,
                        bools: ["0", "1"],
                    },
                );
            }
            for b in s.bytes() {
                h = h.wrapping_mul(0x100_0000_01b3) ^ u64::from(b);
            }
            Ok(())
        })
        .unwrap();
        (c, h)
    }

    #[test]
    fn deterministic_and_scaled() {
        let (a, ha) = run(40, 7);
        let (_, hb) = run(40, 7);
        let (_, hc) = run(40, 8);
        assert_eq!(ha, hb);
        assert_ne!(ha, hc);
        // Pinned: the generator's output must not change by accident (the demo and the
        // benchmarks rely on it).
        assert_eq!(ha, 0xd33432ece9633e2e);
        assert_eq!(run(300, 11).1, 16638257452605700644);
        assert_eq!(a.get("core_projet"), 40);
        assert_eq!(a.get("core_etapeprojet"), 240);
        assert!(a.get("core_tacheetape") >= 240);
    }

    #[test]
    fn literals_escape_quotes() {
        let mut s = String::new();
        let mysql = Style {
            backslash: true,
            bools: ["0", "1"],
        };
        let pg = Style {
            backslash: false,
            bools: ["FALSE", "TRUE"],
        };
        write_literal(&mut s, &Lit::from("L'Été \\ x"), mysql);
        assert_eq!(s, "'L''Été \\\\ x'");
        let mut s = String::new();
        write_literal(&mut s, &Lit::from("a\\b"), pg);
        assert_eq!(s, "'a\\b'");
        let mut s = String::new();
        write_literal(&mut s, &Lit::from(true), mysql);
        write_literal(&mut s, &Lit::from(false), pg);
        assert_eq!(s, "1FALSE");
    }
}
