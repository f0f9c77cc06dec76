//! What commands print: one human summary on a terminal, nothing on success when stdout is not
//! a terminal (cron mails any output), JSON with `--format json`.

use crate::check::Report;
use crate::config::{Config, Format, KEYS};
use crate::db::migrate::MigrationState;
use crate::db::Db;
use crate::demo::Summary;
use serde_json::json;

pub struct Out {
    pub format: Format,
    pub verbose: u8,
    pub quiet: bool,
    pub tty: bool,
}

fn print_json(v: &serde_json::Value) {
    write_json(v);
}

/// Serializes straight to stdout (a report with many alerts is never held twice in memory).
fn write_json<T: serde::Serialize + ?Sized>(v: &T) {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let done = serde_json::to_writer_pretty(&mut w, v)
        .map_err(|e| e.to_string())
        .and_then(|()| writeln!(w).map_err(|e| e.to_string()))
        .and_then(|()| w.flush().map_err(|e| e.to_string()));
    if let Err(e) = done {
        eprintln!("sigov: cannot write output: {e}");
    }
}

impl Out {
    pub fn new(format: Format, verbose: u8, quiet: bool, tty: bool) -> Out {
        Out {
            format,
            verbose,
            quiet,
            tty,
        }
    }

    fn chatty(&self) -> bool {
        !self.quiet && (self.tty || self.verbose > 0)
    }

    pub fn config_show(&self, cfg: &Config) {
        let shown = cfg.layers.shown();
        if self.format == Format::Json {
            let items: Vec<_> = shown
                .iter()
                .map(|(k, v, s)| json!({"key": k, "value": v, "source": s}))
                .collect();
            print_json(&json!({"file": cfg.layers.file, "keys": items, "rules": cfg.rules}));
            return;
        }
        match &cfg.layers.file {
            Some(f) => println!("# configuration file: {}", f.display()),
            None => println!("# configuration file: none"),
        }
        for (k, v, s) in shown {
            let env = KEYS.iter().find(|x| x.key == k).and_then(|x| x.env);
            let env = env.map(|e| format!(", {e}")).unwrap_or_default();
            println!("{k} = {v}    # {s}{env}");
        }
        println!(
            "# profile {} in effect: {}",
            cfg.rules.profile.name(),
            serde_json::to_string(&cfg.rules).unwrap_or_default()
        );
    }

    pub fn config_check(&self, cfg: &Config, db: &Db, pending: &[String]) {
        if self.format == Format::Json {
            print_json(&json!({
                "ok": pending.is_empty(),
                "database": db.url().redacted(),
                "backend": db.backend().name(),
                "pending_migrations": pending,
                "profile": cfg.rules.profile,
            }));
            return;
        }
        if self.quiet {
            return;
        }
        println!("configuration: ok (profile {})", cfg.rules.profile.name());
        println!(
            "database: {} reachable ({})",
            db.url().redacted(),
            db.backend().name()
        );
        if pending.is_empty() {
            println!("migrations: up to date");
        } else {
            println!(
                "migrations: {} pending ({}); run `sigov db migrate`",
                pending.len(),
                pending.join(", ")
            );
        }
    }

    pub fn migrated(&self, db: &Db, applied: &[String]) {
        if self.format == Format::Json {
            print_json(&json!({"database": db.url().redacted(), "applied": applied}));
        } else if self.chatty() {
            if applied.is_empty() {
                println!("{}: migrations already up to date", db.url().redacted());
            }
            for a in applied {
                println!("applied {a}");
            }
        }
    }

    pub fn migration_status(&self, db: &Db, st: &[MigrationState]) {
        if self.format == Format::Json {
            print_json(&json!({"database": db.url().redacted(), "migrations": st}));
            return;
        }
        if self.quiet {
            return;
        }
        for m in st {
            match &m.applied_at {
                Some(at) => println!("applied  {}  {}", m.name, at),
                None => println!("pending  {}", m.name),
            }
        }
    }

    pub fn report(&self, r: &Report) {
        if self.format == Format::Json {
            write_json(r);
            return;
        }
        if self.quiet || !(self.chatty() || r.dry_run) {
            return;
        }
        print_report(r, self.verbose > 0 || r.dry_run);
    }

    /// Reports of `check all`. Failures always reach stderr (through the log and a last line),
    /// so cron mails them even when stdout stays silent.
    pub fn reports(&self, reports: &[Report], code: u8) {
        if self.format == Format::Json {
            #[derive(serde::Serialize)]
            struct All<'a> {
                exit_code: u8,
                checks: &'a [Report],
            }
            write_json(&All {
                exit_code: code,
                checks: reports,
            });
        } else if !self.quiet && (self.chatty() || reports.iter().any(|r| r.dry_run)) {
            for r in reports {
                print_report(r, self.verbose > 0 || r.dry_run);
            }
        }
        let failed: Vec<&str> = reports
            .iter()
            .filter(|r| r.status != "success")
            .map(|r| r.check)
            .collect();
        if !failed.is_empty() {
            eprintln!(
                "sigov: {} of {} checks failed: {}",
                failed.len(),
                reports.len(),
                failed.join(", ")
            );
        }
    }

    pub fn demo_summary(&self, s: &Summary) {
        if self.format == Format::Json {
            print_json(&serde_json::to_value(s).unwrap_or_default());
            return;
        }
        if self.quiet {
            return;
        }
        println!(
            "demo database {} ready: {} projects, {} users, {} stages, {} tasks, {} contracts, {} budget lines (seed {}, today {}) in {:.2} s",
            s.database, s.projects, s.users, s.stages, s.tasks, s.contracts, s.budget_lines, s.seed, s.today, s.seconds
        );
    }

    pub fn demo_reports(&self, reports: &[Report]) {
        if self.format == Format::Json {
            write_json(reports);
            return;
        }
        if self.quiet {
            return;
        }
        for r in reports {
            print_report(r, true);
        }
    }
}

fn print_report(r: &Report, list: bool) {
    if let Some(e) = &r.error {
        println!("{} — FAILED: {e}", r.check);
        return;
    }
    let c = &r.counters;
    let run = r
        .run_id
        .map(|id| format!(", run #{id}"))
        .unwrap_or_default();
    let dry = if r.dry_run {
        " (dry run: nothing written)"
    } else {
        ""
    };
    println!(
        "{} — profile {}, business date {}{run}{dry}, {:.2} s",
        r.check,
        r.profile,
        r.business_date,
        r.duration_ms as f64 / 1000.0
    );
    if list {
        for a in &r.alerts {
            let who = if a.recipient_name.is_empty() {
                a.recipient.clone()
            } else {
                format!("{} ({})", a.recipient_name, a.recipient)
            };
            println!(
                "  + {:<18} {:<7} → {who}: {}  [mail: {}]",
                a.alert_type,
                a.niveau.unwrap_or("-"),
                a.titre,
                a.mail
            );
        }
    }
    let verb = if r.dry_run { "would create" } else { "created" };
    println!(
        "  {} candidate(s), {verb} {}, already recorded {}, superseded {}, due with no new row {}",
        c.candidates, c.created, c.duplicates, c.superseded, c.ignored_entities
    );
    if !c.by_type.is_empty() {
        let t: Vec<String> = c.by_type.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  by type: {}", t.join(", "));
    }
    if !c.skipped.is_empty() {
        let t: Vec<String> = c.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("  skipped: {}", t.join(", "));
    }
    let ms: Vec<String> = c
        .mails_skipped
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let ms = if ms.is_empty() {
        String::new()
    } else {
        format!(" (no mail: {})", ms.join(", "))
    };
    println!(
        "  mails queued {}{ms}; {} statement(s)",
        c.mails_queued, c.queries
    );
}
