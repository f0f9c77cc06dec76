//! The rule settings: what the rule engine and each check's rule read, after the profile is
//! applied. A profile is data (a set of values), never a branch inside a rule; `config` builds
//! these from the layered configuration.

use chrono_tz::Tz;

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Profile {
    Reference,
    Recommended,
}

impl Profile {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// Rule settings after the profile is applied: what the rule engine reads.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Rules {
    pub profile: Profile,
    #[serde(serialize_with = "ser_tz")]
    pub tz: Tz,
    /// Today is the UTC date (reference) rather than the date in `tz`.
    pub utc_today: bool,
    /// Milestones fire once per (entity, due date, milestone, recipient), with catch-up.
    pub catch_up: bool,
    /// Milestone and expiry alerts are keyed by their due (or end) date: once per date, armed
    /// again when the date moves. Off (the reference): project milestones are daily alerts and
    /// contract alerts happen once ever.
    pub keyed_by_due_date: bool,
    /// Overdue alerts: at most one per this many business days per (entity, recipient).
    pub repeat_every_days: u32,
    /// A repeating alert is recorded at most this many times per recipient and arm (0: no
    /// limit); the last says it will not be repeated.
    pub max_repeats: u32,
    pub skip_inactive: bool,
    /// Checks the reference did not have (task reminders) may run.
    pub beyond_reference: bool,
    /// The business calendar (`calendar.*`).
    pub calendar: super::calendar::Calendar,
    /// Checks whose repeating (daily) alerts are recorded on open days of the calendar only
    /// (`calendar.working_days_only`); empty in the reference.
    pub daily_on_working_days_only: Vec<String>,
    /// Checks whose milestones falling on a closed day fire on the open day before
    /// (`calendar.milestones_on_working_days`); empty in the reference.
    pub milestones_on_working_days: Vec<String>,
    /// Checks that count milestones and days late in open days (`calendar.business_days`);
    /// empty in the reference.
    pub business_days: Vec<String>,
    /// Escalation ladders of the repeating alerts, by check (`escalation.*`); none in the
    /// reference.
    pub escalation: Vec<(String, Vec<Rung>)>,
}

/// Who a rung of an escalation ladder adds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, strum::IntoStaticStr,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum Audience {
    /// The project's responsable principal.
    Responsable,
    /// The project's createur.
    Createur,
    /// The project team.
    Team,
    /// Every active superuser.
    Superusers,
}

impl Audience {
    /// Its name in the configuration.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Why the person receives the escalation, in the message.
    pub fn label(self) -> &'static str {
        match self {
            Audience::Responsable => "responsable du projet",
            Audience::Createur => "créateur du projet",
            Audience::Team => "membre de l'équipe du projet",
            Audience::Superusers => "administrateur de l'application",
        }
    }
}

/// One rung: from this many open days after the alert began, these people are told too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rung {
    pub after: u32,
    pub to: Audience,
}

fn ser_tz<S: serde::Serializer>(tz: &Tz, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

impl Rules {
    /// How `check` places milestones and counts days on the business calendar.
    pub fn placement(&self, check: &str) -> super::milestones::Placement<'_> {
        let listed = |l: &[String]| l.iter().any(|c| c == check);
        super::milestones::Placement {
            calendar: &self.calendar,
            business: listed(&self.business_days),
            moved: listed(&self.milestones_on_working_days),
        }
    }

    /// The escalation ladder of `check` (empty: none).
    pub fn ladder(&self, check: &str) -> &[Rung] {
        self.escalation
            .iter()
            .find(|(c, _)| c == check)
            .map(|(_, l)| l.as_slice())
            .unwrap_or(&[])
    }

    /// Whether a rung of `check`'s ladder reaches the superusers (the check then reads them).
    pub fn escalates_to_superusers(&self, check: &str) -> bool {
        self.ladder(check)
            .iter()
            .any(|r| r.to == Audience::Superusers)
    }

    /// The reference's fixed behavior.
    pub fn reference(tz: Tz) -> Rules {
        Rules {
            profile: Profile::Reference,
            tz,
            utc_today: true,
            catch_up: false,
            keyed_by_due_date: false,
            repeat_every_days: 1,
            max_repeats: 0,
            skip_inactive: false,
            beyond_reference: false,
            calendar: super::calendar::Calendar::default(),
            daily_on_working_days_only: Vec::new(),
            milestones_on_working_days: Vec::new(),
            business_days: Vec::new(),
            escalation: Vec::new(),
        }
    }
}
