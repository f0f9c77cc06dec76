//! What commands print: one human summary on a terminal, nothing on success when stdout is not
//! a terminal (cron mails any output), JSON with `--format json`.

use crate::checks::Report;
use crate::clock::to_seconds;
use crate::config::{Config, Format, KEYS};
use crate::db::migrate::MigrationState;
use crate::db::Db;
use crate::demo::Summary;
use crate::mail::render::Rendered;
use crate::mail::{outbox, FlushStats};
use crate::ops::health::{human_age, Health, Level};
use crate::ops::purge::Purged;
use crate::ops::runs::RunRow;
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

/// The first error writing standard output (a closed pipe, a full disk). Once set, nothing more
/// is written; `finish` hands it to `main`, which ends quietly on a closed pipe and with one
/// error line otherwise. Nothing panics on a failed write, as `println!` would.
static STDOUT_ERROR: std::sync::Mutex<Option<std::io::Error>> = std::sync::Mutex::new(None);

fn with_stdout(f: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) {
    let mut failed = STDOUT_ERROR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if failed.is_some() {
        return;
    }
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    if let Err(e) = f(&mut lock) {
        *failed = Some(e);
    }
}

/// Writes to standard output (see [`outln!`]); a failure is kept for [`finish`].
pub fn write_out(args: std::fmt::Arguments<'_>) {
    with_stdout(|w| w.write_fmt(args));
}

/// Writes raw bytes to standard output (completion scripts, rendered mail).
pub fn write_bytes(bytes: &[u8]) {
    with_stdout(|w| w.write_all(bytes));
}

/// Flushes standard output; the first write error of the process, if any.
pub fn finish() -> std::io::Result<()> {
    with_stdout(|w| w.flush());
    let mut failed = STDOUT_ERROR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match failed.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// `println!` that never panics: a failed write is kept for [`finish`].
#[macro_export]
macro_rules! outln {
    () => {
        $crate::output::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Serializes straight to stdout (a report with many alerts is never held twice in memory).
fn write_json<T: serde::Serialize + ?Sized>(v: &T) {
    with_stdout(|w| {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(w);
        serde_json::to_writer_pretty(&mut w, v)?;
        writeln!(w)?;
        w.flush()
    });
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
            Some(f) => crate::outln!("# configuration file: {}", f.display()),
            None => crate::outln!("# configuration file: none"),
        }
        for (k, v, s) in shown {
            let env = KEYS.iter().find(|x| x.key == k).and_then(|x| x.env);
            let env = env.map(|e| format!(", {e}")).unwrap_or_default();
            crate::outln!("{k} = {v}    # {s}{env}");
        }
        crate::outln!(
            "# profile {} in effect: {}",
            cfg.rules.profile.name(),
            serde_json::to_string(&cfg.rules).unwrap_or_default()
        );
    }

    pub fn config_check(
        &self,
        cfg: &Config,
        db: &Db,
        pending: &[String],
        mail: Option<&anyhow::Result<String>>,
    ) {
        let mail_text = match mail {
            None => {
                "not configured: mail waits in the outbox (set SIGOV_MAIL_TRANSPORT)".to_owned()
            }
            Some(Ok(s)) => s.clone(),
            Some(Err(e)) => format!("FAILED: {}", crate::strings::one_line(&format!("{e:#}"))),
        };
        let mail_ok = mail.is_none_or(|m| m.is_ok());
        if self.format == Format::Json {
            print_json(&json!({
                "ok": pending.is_empty() && mail_ok,
                "database": db.url().redacted(),
                "backend": db.backend().name(),
                "pending_migrations": pending,
                "profile": cfg.rules.profile,
                "mail": {"ok": mail_ok, "configured": mail.is_some(), "detail": mail_text},
            }));
            return;
        }
        if !mail_ok {
            eprintln!("sigov: mail: {mail_text}");
        }
        if self.quiet {
            return;
        }
        crate::outln!("configuration: ok (profile {})", cfg.rules.profile.name());
        crate::outln!(
            "database: {} reachable ({})",
            db.url().redacted(),
            db.backend().name()
        );
        if pending.is_empty() {
            crate::outln!("migrations: up to date");
        } else {
            crate::outln!(
                "migrations: {} pending ({}); run `sigov db migrate`",
                pending.len(),
                pending.join(", ")
            );
        }
        crate::outln!("mail: {mail_text}");
    }

    pub fn migrated(&self, db: &Db, applied: &[String]) {
        if self.format == Format::Json {
            print_json(&json!({"database": db.url().redacted(), "applied": applied}));
        } else if self.chatty() {
            if applied.is_empty() {
                crate::outln!("{}: migrations already up to date", db.url().redacted());
            }
            for a in applied {
                crate::outln!("applied {a}");
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
                Some(at) => crate::outln!("applied  {}  {}", m.name, at),
                None => crate::outln!("pending  {}", m.name),
            }
        }
    }

    pub fn report(&self, r: &Report) {
        self.locked(std::slice::from_ref(r));
        if self.format == Format::Json {
            write_json(r);
            return;
        }
        if self.quiet || r.locked() || !(self.chatty() || r.dry_run) {
            return;
        }
        print_report(r, self.verbose > 0 || r.dry_run);
    }

    /// Reports of `check all`. Failures always reach stderr (through the log and a last line),
    /// so cron mails them even when stdout stays silent.
    pub fn reports(&self, reports: &[Report], code: u8) {
        self.locked(reports);
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
            .filter(|r| r.status != crate::states::ReportStatus::Success && !r.locked())
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

    /// A check whose lock another run holds: one line on stderr (cron mails it: runs that
    /// overlap mean a schedule too tight or a run stuck), unless `-q`.
    fn locked(&self, reports: &[Report]) {
        if self.quiet {
            return;
        }
        for r in reports.iter().filter(|r| r.locked()) {
            if let Some(e) = &r.error {
                eprintln!("sigov: check {}: {e}", r.check);
            }
        }
    }

    /// Mail that could not be delivered after a check reaches stderr, even when stdout stays
    /// silent (cron mails stderr): the run exits 3.
    pub fn mail_problems(&self, reports: &[Report]) {
        for r in reports {
            if let Some(m) = r.mail.as_ref().filter(|m| m.incomplete()) {
                eprintln!("sigov: {}: {}", r.check, mail_line(m));
            }
        }
    }

    pub fn flushed(&self, s: &FlushStats) {
        if self.format == Format::Json {
            write_json(s);
        } else if s.incomplete() {
            // Printed whatever the terminal: cron mails it.
            eprintln!("sigov: {}", mail_line(s));
        } else if self.chatty() {
            crate::outln!("{}", mail_line(s));
        }
    }

    pub fn health(&self, h: &Health) {
        if self.format == Format::Json {
            write_json(h);
            return;
        }
        if self.quiet && h.status == Level::Ok {
            return;
        }
        crate::outln!("health: {} — {}", h.status.word(), h.summary);
        let d = &h.database;
        match (&d.error, d.reachable) {
            (Some(e), false) => crate::outln!("database: {} UNREACHABLE: {e}", d.url),
            (Some(e), true) => crate::outln!("database: {} reachable, but: {e}", d.url),
            (None, _) if !d.pending_migrations.is_empty() => crate::outln!(
                "database: {} reachable; pending migrations: {}",
                d.url,
                d.pending_migrations.join(", ")
            ),
            (None, _) => crate::outln!("database: {} reachable, migrations up to date", d.url),
        }
        for c in &h.checks {
            let success = match (&c.last_success, c.age_secs) {
                (Some(t), Some(a)) => {
                    format!("last success {} UTC ({} ago)", to_seconds(t), human_age(a))
                }
                _ => "never succeeded".to_owned(),
            };
            let last = c
                .last_run
                .as_ref()
                .map(|r| format!(", last run #{} {}", r.id, r.status))
                .unwrap_or_default();
            let running = if c.running { ", running now" } else { "" };
            crate::outln!(
                "  {:<9}  {:<8}  {success}{last}{running}",
                c.check,
                c.status.word()
            );
        }
        if let Some(o) = &h.outbox {
            let oldest = match (&o.oldest_pending, o.oldest_pending_age_secs) {
                (Some(t), Some(a)) => format!(
                    "; oldest pending {} UTC ({} ago)",
                    to_seconds(t),
                    human_age(a)
                ),
                _ => String::new(),
            };
            crate::outln!(
                "outbox: {} pending, {} sending, {} failed (retried later), {} dead, {} sent{oldest}",
                o.pending, o.sending, o.failed, o.dead, o.sent
            );
        }
    }

    pub fn purged(&self, p: &Purged) {
        if self.format == Format::Json {
            write_json(p);
            return;
        }
        if self.quiet || !(self.chatty() || p.dry_run) {
            return;
        }
        let verb = if p.dry_run { "would delete" } else { "deleted" };
        for i in &p.items {
            let what = i.what.replace('_', " ");
            match i.days {
                Some(d) => crate::outln!("purge: {what}: {verb} {} (older than {d} days)", i.rows),
                None => crate::outln!("purge: {what}: kept (retention not set)"),
            }
        }
    }

    pub fn runs(&self, rows: &[RunRow]) {
        if self.format == Format::Json {
            let items: Vec<_> = rows.iter().map(run_json).collect();
            write_json(&items);
            return;
        }
        if self.quiet {
            return;
        }
        if rows.is_empty() {
            crate::outln!("no run recorded");
            return;
        }
        crate::outln!(
            "{:>6}  {:<9}  {:<11}  {:<19}  {:>9}  {:<16}  {:>7}  {:>5}  {:>5}",
            "id",
            "check",
            "status",
            "started (UTC)",
            "duration",
            "host",
            "created",
            "mails",
            "exit"
        );
        for r in rows {
            crate::outln!(
                "{:>6}  {:<9}  {:<11}  {:<19}  {:>9}  {:<16}  {:>7}  {:>5}  {:>5}",
                r.id,
                r.check_name,
                r.status,
                to_seconds(&r.started_at),
                r.duration_secs()
                    .map(|d| format!("{d:.2} s"))
                    .unwrap_or_default(),
                r.host,
                r.counter("created"),
                r.counter("mails_sent"),
                r.exit_code.map(|c| c.to_string()).unwrap_or_default()
            );
        }
    }

    pub fn run_detail(&self, r: &RunRow) {
        if self.format == Format::Json {
            write_json(&run_json(r));
            return;
        }
        if self.quiet {
            return;
        }
        let opt = |v: Option<&str>| v.map(to_seconds).unwrap_or("-").to_owned();
        crate::outln!("run #{}: {} — {}", r.id, r.check_name, r.status);
        crate::outln!("  started (UTC)    {}", to_seconds(&r.started_at));
        crate::outln!("  finished (UTC)   {}", opt(r.finished_at.as_deref()));
        crate::outln!("  last heartbeat   {}", to_seconds(&r.heartbeat_at));
        if let Some(d) = r.duration_secs() {
            crate::outln!("  duration         {d:.3} s");
        }
        crate::outln!("  host             {} (pid {})", r.host, r.pid);
        crate::outln!("  version          sigov {}", r.version);
        crate::outln!("  profile          {}", r.profile);
        crate::outln!("  business date    {}", r.business_date);
        crate::outln!(
            "  exit code        {}",
            r.exit_code
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into())
        );
        if let Some(e) = &r.error {
            crate::outln!("  error            {}", crate::strings::one_line(e));
        }
        let c = r.counters();
        let Some(obj) = c.as_object().filter(|o| !o.is_empty()) else {
            crate::outln!("  counters         none recorded (the run never closed)");
            return;
        };
        crate::outln!("  counters");
        for (k, v) in obj {
            match v {
                serde_json::Value::Object(m) if m.is_empty() => crate::outln!("    {k:<20} -"),
                serde_json::Value::Object(m) => {
                    let parts: Vec<String> = m.iter().map(|(a, b)| format!("{a} {b}")).collect();
                    crate::outln!("    {k:<20} {}", parts.join(", "));
                }
                other => crate::outln!("    {k:<20} {other}"),
            }
        }
    }

    pub fn mail_queue(&self, counts: &[(String, i64, Option<String>)], rows: &[outbox::Row]) {
        if self.format == Format::Json {
            let counts: Vec<_> = counts
                .iter()
                .map(|(s, n, o)| json!({"state": s, "count": n, "oldest": o}))
                .collect();
            print_json(&json!({"counts": counts, "rows": rows}));
            return;
        }
        if self.quiet {
            return;
        }
        let summary: Vec<String> = counts.iter().map(|(s, n, _)| format!("{s} {n}")).collect();
        crate::outln!(
            "outbox: {}",
            if summary.is_empty() {
                "empty".to_owned()
            } else {
                summary.join(", ")
            }
        );
        if rows.is_empty() {
            return;
        }
        crate::outln!(
            "{:>8}  {:<8}  {:>3}  {:<26}  {:<26}  {:<32}  last error",
            "id",
            "state",
            "try",
            "created (UTC)",
            "next attempt (UTC)",
            "to"
        );
        for r in rows {
            crate::outln!(
                "{:>8}  {:<8}  {:>3}  {:<26}  {:<26}  {:<32}  {}",
                r.id,
                r.state,
                r.attempts,
                r.created_at,
                r.next_attempt_at,
                r.recipient_email,
                r.last_error.as_deref().unwrap_or("")
            );
        }
    }

    pub fn requeued(&self, n: usize) {
        if self.format == Format::Json {
            print_json(&json!({"requeued": n}));
        } else if !self.quiet {
            crate::outln!("requeued {n} dead mail(s); `sigov mail flush` delivers them");
        }
    }

    pub fn mail_tested(&self, to: &str, transport: &str, answer: &str) {
        if self.format == Format::Json {
            print_json(&json!({"to": to, "transport": transport, "answer": answer}));
        } else if !self.quiet {
            crate::outln!("test mail to {to} through {transport}: {answer}");
        }
    }

    /// Rendered mails: text (or HTML) on stdout, or files.
    pub fn previews(
        &self,
        items: &[(String, Rendered, Vec<u8>)],
        html: bool,
        output: Option<&std::path::Path>,
        single: bool,
    ) -> anyhow::Result<()> {
        use anyhow::Context;
        if let Some(path) = output {
            let mut written = Vec::new();
            if single {
                let (_, r, eml) = &items[0];
                let html_file = path.extension().is_some_and(|e| e == "html" || e == "htm");
                let bytes = if html_file {
                    r.html.as_bytes()
                } else {
                    eml.as_slice()
                };
                std::fs::write(path, bytes)
                    .with_context(|| format!("cannot write `{}`", path.display()))?;
                written.push(path.to_path_buf());
            } else {
                std::fs::create_dir_all(path)
                    .with_context(|| format!("cannot create `{}`", path.display()))?;
                for (name, r, eml) in items {
                    for (ext, bytes) in [("eml", eml.as_slice()), ("html", r.html.as_bytes())] {
                        let f = path.join(format!("{name}.{ext}"));
                        std::fs::write(&f, bytes)
                            .with_context(|| format!("cannot write `{}`", f.display()))?;
                        written.push(f);
                    }
                }
            }
            if self.format == Format::Json {
                print_json(&json!({"written": written}));
            } else if !self.quiet {
                for f in written {
                    crate::outln!("wrote {}", f.display());
                }
            }
            return Ok(());
        }
        if self.format == Format::Json {
            let v: Vec<_> = items
                .iter()
                .map(|(n, r, _)| json!({"name": n, "subject": r.subject, "text": r.text, "html": r.html}))
                .collect();
            print_json(&json!(v));
            return Ok(());
        }
        for (i, (name, r, _)) in items.iter().enumerate() {
            if items.len() > 1 {
                if i > 0 {
                    crate::outln!();
                }
                crate::outln!("===== {name}");
            }
            if html {
                crate::outln!("{}", r.html);
            } else {
                crate::outln!("Subject: {}\n\n{}", r.subject, r.text);
            }
        }
        Ok(())
    }

    pub fn demo_summary(&self, s: &Summary) {
        if self.format == Format::Json {
            print_json(&serde_json::to_value(s).unwrap_or_default());
            return;
        }
        if self.quiet {
            return;
        }
        crate::outln!(
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

fn run_json(r: &RunRow) -> serde_json::Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("duration_secs".into(), json!(r.duration_secs()));
        o.insert("counters".into(), r.counters());
    }
    v
}

fn print_report(r: &Report, list: bool) {
    if let Some(e) = &r.error {
        if r.locked() {
            crate::outln!("{} — skipped: {e}", r.check);
        } else {
            crate::outln!("{} — FAILED: {e}", r.check);
        }
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
    crate::outln!(
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
            crate::outln!(
                "  + {:<18} {:<7} → {who}: {}  [mail: {}]",
                a.alert_type,
                a.niveau.map_or("-", |n| n.as_str()),
                a.titre,
                a.mail
            );
        }
    }
    let verb = if r.dry_run { "would create" } else { "created" };
    crate::outln!(
        "  {} candidate(s), {verb} {}, already recorded {}, superseded {}, due with no new row {}",
        c.candidates,
        c.created,
        c.duplicates,
        c.superseded,
        c.ignored_entities
    );
    if !c.by_type.is_empty() {
        let t: Vec<String> = c.by_type.iter().map(|(k, v)| format!("{k} {v}")).collect();
        crate::outln!("  by type: {}", t.join(", "));
    }
    if !c.skipped.is_empty() {
        let t: Vec<String> = c.skipped.iter().map(|(k, v)| format!("{k} {v}")).collect();
        crate::outln!("  skipped: {}", t.join(", "));
    }
    if !c.repaired.is_empty() {
        let t: Vec<String> = c.repaired.iter().map(|(k, v)| format!("{k} {v}")).collect();
        crate::outln!("  read despite a defect: {}", t.join(", "));
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
    crate::outln!(
        "  mails queued {}{ms}; {} statement(s)",
        c.mails_queued,
        c.queries
    );
    if let Some(m) = &r.mail {
        crate::outln!("  {}", mail_line(m));
    }
}

/// One line about a delivery.
pub fn mail_line(m: &FlushStats) -> String {
    let mut s = format!("mail: {} sent in {} message(s)", m.sent, m.messages);
    if !m.transport.is_empty() {
        s.push_str(&format!(" via {}", m.transport));
    }
    if m.failed > 0 {
        s.push_str(&format!(", {} failed (retried later)", m.failed));
    }
    if m.dead > 0 {
        s.push_str(&format!(
            ", {} dead (see `sigov mail queue --state dead`)",
            m.dead
        ));
    }
    if m.deferred > 0 {
        s.push_str(&format!(", {} deferred", m.deferred));
    }
    if let Some(e) = &m.error {
        s.push_str(&format!(": {e}"));
    }
    s
}
