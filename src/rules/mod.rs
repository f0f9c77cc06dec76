//! The pure rule engine the checks share, split by concern: people and roles, alerts and texts,
//! the de-duplication memory, counters, milestones, French wording, and the rule settings each
//! profile is made of. No I/O here: the checks' rules (`checks::*::rule`) build on it.

pub mod alert;
pub mod calendar;
pub mod context;
pub mod counters;
pub mod engine;
pub mod hold;
pub mod milestones;
pub mod people;
pub mod seen;
pub mod settings;
pub mod wording;

pub use alert::{MailPlan, NewAlert, ProjectInfo, Subject, Superseded, Target, Texts};
pub use context::Ctx;
pub use counters::Counters;
pub use engine::{escalation_keys, ladder_reach, Audiences, Decisions, Dedup, Engine};
pub use hold::{Hold, HoldKind, Holding, Holds};
pub use milestones::{milestone_at, Ahead, Placement, Span};
pub use people::{plausible_email, responsable, Member, Person, Recipients, Role};
pub use seen::{entity_column, no_discriminators, Seen, SeenSpec};
pub use settings::{Audience, Profile, Rules, Rung};
pub use wording::{
    cents, fit_title, fr_date, hyphenate, jours, statut_label, unhyphenate, TITLE_MAX,
};

/// Shared fixtures of the rule tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::{Person, ProjectInfo};
    use super::{Profile, Rules};
    use chrono::NaiveDate;

    pub fn person(id: &str, active: bool) -> Person {
        Person {
            id: id.into(),
            username: id.into(),
            first_name: format!("Prénom-{id}"),
            last_name: "Test".into(),
            email: format!("{id}@sigov.test"),
            is_superuser: false,
            is_active: active,
            statut_actif: true,
        }
    }

    pub fn projet() -> ProjectInfo {
        ProjectInfo {
            id: "p1".into(),
            nom: "R&D <Alpha>".into(),
            client: "C".into(),
            statut: "En cours".into(),
        }
    }

    pub fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    /// The recommended profile with its documented defaults.
    pub fn recommended() -> Rules {
        Rules {
            profile: Profile::Recommended,
            tz: chrono_tz::Europe::Paris,
            utc_today: false,
            catch_up: true,
            keyed_by_due_date: true,
            repeat_every_days: 1,
            max_repeats: 0,
            skip_inactive: true,
            beyond_reference: true,
            calendar: super::calendar::Calendar::default(),
            daily_on_working_days_only: Vec::new(),
            milestones_on_working_days: Vec::new(),
            business_days: Vec::new(),
            escalation: Vec::new(),
        }
    }
}
