//! What a rule produces: the alert rows to create (with their ledger key and mail facts), the
//! milestones passed over, and the pieces a check assembles them from (subject, texts).

use super::people::Person;
use super::people::Role;
use crate::states::Niveau;

/// Which table an alert goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Target {
    #[serde(rename = "core_alerteprojet")]
    Alerte,
    #[serde(rename = "core_notificationetape")]
    NotificationEtape,
}

impl Target {
    pub fn table(self) -> &'static str {
        match self {
            Target::Alerte => "core_alerteprojet",
            Target::NotificationEtape => "core_notificationetape",
        }
    }
}

/// Project facts that mails show; carried into the outbox snapshot.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProjectInfo {
    pub id: String,
    pub nom: String,
    pub client: String,
    pub statut: String,
}

/// One alert row to create, with its ledger key and the facts its mail needs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct NewAlert {
    pub key: String,
    pub check: &'static str,
    pub target: Target,
    pub alert_type: String,
    pub niveau: Option<Niveau>,
    #[serde(skip)]
    pub recipient: Person,
    pub recipient_id: String,
    pub recipient_name: String,
    pub recipient_username: String,
    /// The project's facts, shared with the other recipients' rows of the same alert.
    pub projet: std::sync::Arc<ProjectInfo>,
    /// The entity the alert is about (project, stage, task or contract id).
    pub entity_id: String,
    /// For `core_notificationetape`: the stage, and its order in the project (mails show it).
    pub etape_id: Option<String>,
    pub etape_ordre: Option<i64>,
    pub titre: String,
    pub message: String,
    /// The JSON context, shared with the other recipients' rows of the same alert.
    pub context: std::sync::Arc<serde_json::Value>,
    pub title_truncated: bool,
    /// The ledger's type of the key when it is not the row's: escalation keys
    /// ([`ESCALATION`]), read back whatever their date.
    #[serde(skip)]
    pub ledger_type: Option<&'static str>,
    /// Why the recipient receives it (`vous êtes responsable du projet « … »`): the mail's
    /// footer.
    pub reason: String,
    /// The rule that raised it (`échéance J-3`): the mail's footer.
    pub rule: String,
    /// How its mail goes after the recipient's choices (`sigov prefs`); set by the run.
    #[serde(skip)]
    pub mail: MailPlan,
    /// What a repeating alert was raised on ([`Subject::arm`]), kept in the ledger: an
    /// acknowledgement of it holds while the entity still says the same. `None`: alerted once.
    #[serde(skip)]
    pub arm: Option<String>,
}

/// The ledger type of escalation keys (the row keeps its check's type).
pub const ESCALATION: &str = "ESCALADE";

/// A milestone passed over by catch-up: recorded in the ledger, never alerted nor mailed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Superseded {
    pub key: String,
    pub check: &'static str,
    pub alert_type: String,
    pub entity_id: String,
    pub recipient_id: String,
}

/// What an alert is about, as its key and its row name it.
pub struct Subject<'a> {
    pub check: &'static str,
    pub target: Target,
    /// The de-duplication entity: a project, a stage, `project/task` or `project/contract`.
    pub entity: String,
    /// The entity's own id, recorded in the ledger (project, stage, task or contract).
    pub entity_id: &'a str,
    pub projet: &'a ProjectInfo,
    pub etape_id: Option<&'a str>,
    pub etape_ordre: Option<i64>,
    /// What a repeating alert is raised on: its due date (`due=2026-11-17`) or planned budget
    /// (`budget=10000.00`). An escalation rung is told once per arm, and an acknowledgement
    /// holds while it is the same (a moved date re-arms both). Empty for once-only alerts.
    pub arm: String,
}

/// The texts of one alert for one entity. The message is `fixed` followed by the sentence of
/// the recipient's role (none when the role has no sentence).
pub struct Texts {
    pub alert_type: String,
    pub niveau: Option<Niveau>,
    pub titre: String,
    pub truncated: bool,
    pub fixed: String,
    pub sentences: Vec<(Role, String)>,
    /// Shared by the alert's rows (one a recipient).
    pub context: std::sync::Arc<serde_json::Value>,
}

/// An alert's texts as the engine asks for them: its type at once (to find its keys), the rest
/// only when a row is written.
pub trait AlertTexts {
    fn alert_type(&self) -> &str;
    fn texts(&self) -> &Texts;
}

impl AlertTexts for Texts {
    fn alert_type(&self) -> &str {
        &self.alert_type
    }
    fn texts(&self) -> &Texts {
        self
    }
}

/// Texts built the first time they are needed: a run whose alerts were all recorded already
/// (a steady state) builds none. `alert_type` is the one `make` gives.
pub struct Later<F: Fn() -> Texts> {
    alert_type: &'static str,
    make: F,
    built: std::cell::OnceCell<Texts>,
}

impl<F: Fn() -> Texts> Later<F> {
    pub fn new(alert_type: &'static str, make: F) -> Later<F> {
        Later {
            alert_type,
            make,
            built: std::cell::OnceCell::new(),
        }
    }
}

impl<F: Fn() -> Texts> AlertTexts for Later<F> {
    fn alert_type(&self) -> &str {
        self.alert_type
    }
    fn texts(&self) -> &Texts {
        let t = self.built.get_or_init(&self.make);
        debug_assert_eq!(t.alert_type, self.alert_type);
        t
    }
}

impl Texts {
    pub fn message(&self, role: Role) -> String {
        let s = self
            .sentences
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, s)| s.as_str())
            .unwrap_or("");
        format!("{}{}", self.fixed, s)
    }
}

/// How an alert's mail goes, after its recipient's choices.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum MailPlan {
    /// Due now, one mail (or in the per-run digest).
    #[default]
    Now,
    /// A critical alert (`mail.critical_bypass`): due now, never in a daily digest, and
    /// delivered even in quiet hours.
    Urgent,
    /// Due at `at` (UTC), sent with the other mails of `key` as one message.
    Batch {
        at: chrono::NaiveDateTime,
        key: String,
    },
    /// No mail, by the recipient's choice (`mail_off`, `muted`).
    Off(&'static str),
}
