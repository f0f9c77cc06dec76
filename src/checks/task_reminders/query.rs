//! The reminders' SQL: open tasks due within the reminder window, read like the overdue
//! tasks (same columns, same pages: [`crate::checks::tasks::query`]).

use crate::checks::run::Candidates;
use crate::checks::tasks::query::{select, TaskKind};
use crate::checks::tasks::rule::Candidate;
use crate::db::{Db, Mark, Val};
use crate::source::TeamCache;
use anyhow::Result;
use chrono::NaiveDate;

/// Open tasks of `kind` due from `window.0` to `window.1` (inclusive): today up to the largest
/// reminder; and the count of open tasks of `kind`.
pub fn candidates(
    db: &mut Db,
    teams: &mut TeamCache,
    kind: TaskKind,
    window: (NaiveDate, NaiveDate),
    size: u32,
) -> Result<(Candidates<Candidate>, i64)> {
    select(
        db,
        teams,
        kind,
        &format!(
            "t.date_fin >= {d} AND t.date_fin <= {d}",
            d = db.mark(Mark::Date)
        ),
        &[
            Val::Text(window.0.to_string()),
            Val::Text(window.1.to_string()),
        ],
        size,
    )
}
