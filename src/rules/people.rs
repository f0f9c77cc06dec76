//! People as the checks see them: users, why they receive an alert (their role), the set of
//! recipients of one entity, and whether an address can receive mail.

/// A user as the checks see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub is_superuser: bool,
    pub is_active: bool,
    pub statut_actif: bool,
}

impl Person {
    /// `first_name + " " + last_name`, trimmed; empty when both are (no username fallback).
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }

    /// Inactive accounts (the recommended profile skips them).
    pub fn active(&self) -> bool {
        self.is_active && self.statut_actif
    }
}

/// Why someone receives an alert; decides the role sentence. When one person holds several
/// roles, the first in this order wins (the reference's `if` chains).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The task's assignee (task check only).
    Assignee,
    /// The project's responsable principal.
    Responsable,
    /// The project's createur ("administrateur" in four checks).
    Createur,
    /// A superuser ("administrateur" in the contract check).
    Admin,
    /// Any other member of the project team.
    Team,
}

/// An address mail can be sent to: lettre parses it, and its domain has a dot.
pub fn plausible_email(e: &str) -> bool {
    // The one validator, at queue time as at send time: what lettre (which builds and sends the
    // message) accepts, and a domain with a dot (a bare host is a typo here, not a mail domain).
    let e = e.trim();
    e.parse::<lettre::Address>()
        .is_ok_and(|a| a.domain().contains('.') && !a.domain().ends_with('.'))
}

/// Recipients of one entity: a set (one row per user), each with the strongest role.
#[derive(Debug, Default)]
pub struct Recipients {
    pub list: Vec<(Person, Role)>,
}

impl Recipients {
    /// The project's createur and responsable principal (when they exist).
    pub fn createur_and_responsable(
        createur: Option<&Person>,
        responsable: Option<&Person>,
    ) -> Recipients {
        let mut r = Recipients::default();
        if let Some(p) = createur {
            r.add(p, Role::Createur);
        }
        if let Some(p) = responsable {
            r.add(p, Role::Responsable);
        }
        r
    }

    pub fn add(&mut self, p: &Person, role: Role) {
        match self.list.iter_mut().find(|(q, _)| q.id == p.id) {
            Some((_, r)) => {
                if role < *r {
                    *r = role;
                }
            }
            None => self.list.push((p.clone(), role)),
        }
    }
}

/// The responsable principal among active affectations ordered by affectation id: the first
/// flagged one (the reference's tie-break).
pub fn responsable(team: &[Member]) -> Option<&Person> {
    team.iter().find(|(r, _)| *r).map(|(_, p)| &**p)
}

/// A member of a project team: (responsable principal?, the user). The user is shared: a run
/// holds one copy of each user however many teams they are in.
pub type Member = (bool, std::rc::Rc<Person>);

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn emails() {
        assert!(plausible_email("a.b@sigov.test"));
        assert!(!plausible_email(""));
        assert!(!plausible_email("pas-une-adresse"));
        assert!(!plausible_email("a@b"));
        assert!(!plausible_email("a b@c.fr"));
        assert!(!plausible_email("a@c.fr\r\nBcc: x@y.z"));
        // What the sender would refuse is refused when the alert is recorded, not at send time.
        assert!(!plausible_email("a..b@sigov.test"));
        assert!(!plausible_email("a@@sigov.test"));
        assert!(!plausible_email("<a@sigov.test>"));
    }

    #[test]
    fn strongest_role_wins() {
        let p = Person {
            id: "u".into(),
            username: "u".into(),
            first_name: "A".into(),
            last_name: "B".into(),
            email: String::new(),
            is_superuser: true,
            is_active: true,
            statut_actif: true,
        };
        let mut r = Recipients::default();
        r.add(&p, Role::Team);
        r.add(&p, Role::Createur);
        r.add(&p, Role::Team);
        assert_eq!(r.list.len(), 1);
        assert_eq!(r.list[0].1, Role::Createur);
    }
}
