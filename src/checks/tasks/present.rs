//! What the tasks check says of its alerts: the explanation of `alerts show`.

use crate::checks::check::Facts;

pub fn explain(facts: &mut Facts<'_>) -> String {
    facts.from("task", "tache_nom");
    facts.from("task due date", "date_fin");
    facts.from("days late", "jours_retard");
    "tasks: an open task past its due date is reported to its people".into()
}
