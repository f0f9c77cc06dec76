//! Classes of database errors sigov acts on: lock conflicts (retried), unique violations
//! (another writer recorded the same key).

/// Whether an error's text is a lock conflict a retry resolves: a MySQL deadlock or lock wait
/// timeout (the statement, or its transaction, was rolled back whole) or SQLite busy.
pub fn is_lock_conflict(message: &str) -> bool {
    message.contains("Deadlock found")
        || message.contains("Lock wait timeout exceeded")
        || message.contains("database is locked")
        || message.contains("deadlock detected")
        || message.contains("could not serialize access")
        || message.contains("canceling statement due to lock timeout")
}

/// Lock conflicts a statement or a transaction is retried for, with a growing pause.
pub(super) const CONFLICT_RETRIES: u32 = 8;

pub(super) fn conflict_pause(tries: u32) {
    std::thread::sleep(std::time::Duration::from_millis(20 * u64::from(tries)));
}

/// The web application's table a statement reads (for log lines): the first named.
pub(super) fn main_table(sql: &str) -> &str {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .find(|w| w.starts_with("core_"))
        .unwrap_or("sigov_cand (the check's candidates, copied from its tables)")
}

/// Is this error a unique-key violation (another writer recorded the same key)?
pub fn is_unique_violation(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        matches!(
            c.downcast_ref::<diesel::result::Error>(),
            Some(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    })
}
