//! The de-duplication memory: what was already recorded (ledger keys, and the alert rows any
//! writer left in the web application's tables), and how a check asks for it.

use super::alert::Target;
use super::context::Ctx;
use chrono::NaiveDate;
use std::collections::HashSet;

/// Hashes a value that is itself a hash (a SipHash fingerprint, a SHA-256 prefix): its low 64
/// bits, as they are. Hashing them again cost a twentieth of a steady-state run.
#[derive(Debug, Default, Clone, Copy)]
pub struct Spread;

/// [`Spread`]'s hasher: keeps the last `u128` (or the first 8 bytes of anything else) written.
#[derive(Debug, Default)]
pub struct SpreadHasher(u64);

impl std::hash::Hasher for SpreadHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not reached for u128 (write_u128 below); kept correct for any other key.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

impl std::hash::BuildHasher for Spread {
    type Hasher = SpreadHasher;
    fn build_hasher(&self) -> SpreadHasher {
        SpreadHasher(0)
    }
}

/// A set of 128-bit fingerprints of tuples of strings: what [`Seen`] holds instead of the
/// strings themselves, 16 bytes an entry whatever the ids' lengths, so a check can hold what
/// was recorded for all its candidates (hundreds of thousands of rows at 50,000 projects) in a
/// few megabytes. Two SipHash-1-3 of the parts, each part ended by a separator byte (no two
/// tuples hash the same bytes); a false "already seen" needs a 128-bit collision, about 1 in
/// 10^28 for a million entries.
#[derive(Debug, Default, Clone)]
pub struct Fingerprints(HashSet<u128, Spread>);

impl Fingerprints {
    /// The fingerprint of `parts`, then of `day` when there is one (as its day number: no
    /// text is built for it).
    fn of(parts: &[&str], day: Option<NaiveDate>) -> u128 {
        use chrono::Datelike;
        use std::hash::{Hash, Hasher};
        let mut lo = std::hash::DefaultHasher::new();
        let mut hi = std::hash::DefaultHasher::new();
        0x5eu8.hash(&mut hi);
        for p in parts {
            p.hash(&mut lo);
            p.hash(&mut hi);
        }
        if let Some(d) = day {
            d.num_days_from_ce().hash(&mut lo);
            d.num_days_from_ce().hash(&mut hi);
        }
        (u128::from(hi.finish()) << 64) | u128::from(lo.finish())
    }

    pub fn insert(&mut self, parts: &[&str]) {
        self.0.insert(Self::of(parts, None));
    }

    pub fn contains(&self, parts: &[&str]) -> bool {
        self.0.contains(&Self::of(parts, None))
    }

    fn insert_day(&mut self, parts: &[&str], day: NaiveDate) {
        self.0.insert(Self::of(parts, Some(day)));
    }

    fn contains_day(&self, parts: &[&str], day: NaiveDate) -> bool {
        self.0.contains(&Self::of(parts, Some(day)))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What was already recorded: ledger keys, and alert rows present in the web application's
/// tables (written earlier by Django, the web application or sigov).
#[derive(Debug, Default)]
pub struct Seen {
    /// Ledger keys, as their ledger hashes (`db::keyhash`, what the ledger's primary key holds).
    keys: HashSet<u128, Spread>,
    /// (recipient, entity, type, business date of `date_creation`)
    daily: Fingerprints,
    /// (recipient, entity, type, discriminator read from the row's JSON context: a due date
    /// `due=YYYY-MM-DD`, an end date, or `""` for "once ever")
    once: Fingerprints,
    /// Rows whose JSON context cannot be read (not JSON, or not an object): what can be read of
    /// them, (recipient, entity column: project or stage, type, business date). A candidate of
    /// the same recipient, project (or stage) and type is taken as already alerted, that day for
    /// a daily alert, ever for a once-only one: a row that cannot be read never causes a
    /// duplicate (it may, at worst, hold back an alert of another task of the same project).
    pub unreadable: HashSet<(String, String, String, Option<NaiveDate>)>,
    /// Ids of those rows (counted once per run as `unreadable_context`).
    pub unreadable_ids: Vec<i64>,
    /// Holds what was recorded for a whole check (read once, then kept up to date by the run).
    pub loaded: bool,
    /// The acknowledgements and snoozes in force for the check (read once a run).
    pub holds: super::hold::Holds,
    /// With `recommended.max_repeats`: how many times each repeating alert near the limit was
    /// recorded, by (type, entity id, recipient, arm) (read once a run).
    pub repeats: std::sync::Arc<std::collections::HashMap<(String, String, String, String), i64>>,
}

/// How a check's existing alert rows are read back for de-duplication (the source layer runs
/// it; the check supplies it).
pub struct SeenSpec {
    pub check: &'static str,
    pub target: Target,
    pub types: Vec<String>,
    /// Rows and ledger keys from this business date on; `None`: the whole history.
    pub since: Option<NaiveDate>,
    /// Alert types whose ledger keys are read whatever their business date: keys that stay
    /// valid longer than `since` reaches back (budget thresholds: once per planned budget).
    pub keys_of_any_date: &'static [&'static str],
    /// The de-duplication entity of a stored row, from its entity column (`projet_id` or
    /// `etape_id`) and its JSON context; `None` when the row cannot be one of ours.
    pub entity: fn(&str, &Ctx) -> Option<String>,
    /// The "once" discriminators of a stored row, from its type and JSON context.
    pub discriminators: fn(&str, &Ctx) -> Vec<String>,
}

/// The entity column as it is (projects, stages).
pub fn entity_column(col: &str, _: &Ctx) -> Option<String> {
    Some(col.to_owned())
}

/// No "once" discriminator (daily checks).
pub fn no_discriminators(_: &str, _: &Ctx) -> Vec<String> {
    Vec::new()
}

impl Seen {
    /// A ledger key was recorded.
    pub fn add_key(&mut self, key: &str) {
        self.keys.insert(crate::db::keyhash::of_u128(key));
    }

    /// A ledger key was recorded, read as its hash (the ledger's primary key).
    pub fn add_key_hash(&mut self, hash: u128) {
        self.keys.insert(hash);
    }

    pub fn has_key(&self, key: &str) -> bool {
        self.keys.contains(&crate::db::keyhash::of_u128(key))
    }

    /// A daily alert row of (recipient, entity, type) was written on business day `day`.
    pub fn add_daily(&mut self, rec: &str, entity: &str, typ: &str, day: NaiveDate) {
        self.daily.insert_day(&[rec, entity, typ], day);
    }

    fn has_daily(&self, rec: &str, entity: &str, typ: &str, day: NaiveDate) -> bool {
        self.daily.contains_day(&[rec, entity, typ], day)
    }

    /// A once-only alert row of (recipient, entity, type) with discriminator `disc` exists.
    pub fn add_once(&mut self, rec: &str, entity: &str, typ: &str, disc: &str) {
        self.once.insert(&[rec, entity, typ, disc]);
    }

    pub fn has_once(&self, rec: &str, entity: &str, typ: &str, disc: &str) -> bool {
        self.once.contains(&[rec, entity, typ, disc])
    }

    /// Takes in one stored alert row of `spec`'s check as the de-duplication reads it: its
    /// recipient, entity column (project or stage), type, business day of creation, and its
    /// JSON context (`None`: not a JSON object; `id` is then kept to be counted). Rows read back
    /// from the database and rows this run has just written go through here alike.
    #[allow(clippy::too_many_arguments)]
    pub fn absorb_row(
        &mut self,
        spec: &SeenSpec,
        id: i64,
        rec: &str,
        entity_col: &str,
        typ: &str,
        created: Option<NaiveDate>,
        ctx: Option<&Ctx>,
    ) {
        let Some(ctx) = ctx else {
            // Decide from what can be read: recipient, project (or stage), type, day.
            self.unreadable.insert((
                rec.to_owned(),
                entity_col.to_owned(),
                typ.to_owned(),
                created,
            ));
            self.unreadable_ids.push(id);
            return;
        };
        let Some(ent) = (spec.entity)(entity_col, ctx) else {
            return;
        };
        for d in (spec.discriminators)(typ, ctx) {
            self.add_once(rec, &ent, typ, &d);
        }
        if let Some(created) = created {
            self.add_daily(rec, &ent, typ, created);
        }
    }

    /// Entries held (keys, daily rows, once rows), for the memory it takes.
    pub fn entries(&self) -> usize {
        self.keys.len() + self.daily.len() + self.once.len() + self.unreadable.len()
    }

    /// The first business day of `window` (inclusive) with a daily row of (recipient, entity,
    /// type).
    pub fn first_daily(
        &self,
        rec: &str,
        entity: &str,
        typ: &str,
        window: (NaiveDate, NaiveDate),
    ) -> Option<NaiveDate> {
        let mut d = window.0;
        while d <= window.1 {
            if self.has_daily(rec, entity, typ, d) {
                return Some(d);
            }
            d = d.succ_opt()?;
        }
        None
    }

    /// Was a daily alert recorded for any business day in `window` (inclusive)?
    pub fn daily_in(
        &self,
        key_prefix: &str,
        rec: &str,
        entity: &str,
        typ: &str,
        window: (NaiveDate, NaiveDate),
    ) -> bool {
        let mut d = window.0;
        while d <= window.1 {
            if self.has_daily(rec, entity, typ, d) || self.has_key(&format!("{key_prefix}:{d}")) {
                return true;
            }
            match d.succ_opt() {
                Some(n) => d = n,
                None => break,
            }
        }
        false
    }
}
