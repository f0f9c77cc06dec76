//! Milestones before a due date, with or without catch-up.

/// Milestone catch-up shared by project deadlines and contract expiry: with `d` days left
/// (0 ≤ d), the milestone to emit and the larger ones it passes over. Without catch-up (the
/// reference), only exact-day equality fires and nothing is passed over.
pub fn milestone_at(milestones: &[u32], d: i64, catch_up: bool) -> Option<(u32, Vec<u32>)> {
    let du = u32::try_from(d).ok()?;
    if !catch_up {
        return milestones.contains(&du).then(|| (du, Vec::new()));
    }
    let reached: Vec<u32> = milestones.iter().copied().filter(|m| *m >= du).collect();
    let emit = reached.iter().copied().min()?;
    Some((emit, reached.into_iter().filter(|m| *m != emit).collect()))
}
