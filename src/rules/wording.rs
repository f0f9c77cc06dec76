//! French wording and the value forms the reference writes: day counts, dates, titles that fit
//! the column, status labels, amounts, UUID forms.

/// The longest `titre` the web application's column accepts (varchar(200), strict mode).
use chrono::NaiveDate;

pub const TITLE_MAX: usize = 200;

/// `1 jour`, `N jours`.
pub fn jours(n: i64) -> String {
    if n == 1 {
        "1 jour".to_owned()
    } else {
        format!("{n} jours")
    }
}

/// `dd/mm/YYYY`.
pub fn fr_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Compact (column) form of a UUID: lower case, no hyphens; other ids as they are.
pub fn unhyphenate(id: &str) -> String {
    if id.len() == 36 && id.chars().filter(|c| *c == '-').count() == 4 {
        id.replace('-', "").to_ascii_lowercase()
    } else {
        id.to_owned()
    }
}

/// Hyphenated form of a char(32) UUID, as the reference writes inside JSON; other ids as they are.
pub fn hyphenate(id: &str) -> String {
    if id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        format!(
            "{}-{}-{}-{}-{}",
            &id[0..8],
            &id[8..12],
            &id[12..16],
            &id[16..20],
            &id[20..32]
        )
    } else {
        id.to_owned()
    }
}

/// Builds `prefix + name + suffix`, shortening `name` with `…` so that the whole fits in
/// `TITLE_MAX` characters. Returns the title and whether it was shortened.
pub fn fit_title(prefix: &str, name: &str, suffix: &str) -> (String, bool) {
    let fixed = prefix.chars().count() + suffix.chars().count();
    if fixed + name.chars().count() <= TITLE_MAX {
        return (format!("{prefix}{name}{suffix}"), false);
    }
    let keep = TITLE_MAX.saturating_sub(fixed + 1);
    let short: String = name.chars().take(keep).collect();
    (format!("{prefix}{short}…{suffix}"), true)
}

/// Label of a project status code, as the web application shows it.
pub fn statut_label(code: &str) -> String {
    match code {
        "IDEE" => "Idée",
        "AFFECTE" => "Affecté",
        "PLANIFIE" => "Planifié",
        "EN_COURS" => "En cours",
        "SUSPENDU" => "Suspendu",
        "TERMINE" => "Terminé",
        "ARCHIVE" => "Archivé",
        other => other,
    }
    .to_owned()
}

/// A decimal amount held in cents, printed the reference's way: 2 decimals, `.`, no
/// thousands separator.
pub fn cents(v: i64) -> String {
    let sign = if v < 0 { "-" } else { "" };
    let a = v.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Why a person receives an alert, for the mail's footer (`vous êtes responsable du projet
/// « Alpha »`).
pub fn why(role: super::people::Role, projet: &str) -> String {
    use super::people::Role;
    match role {
        Role::Assignee => format!("la tâche vous est assignée (projet « {projet} »)"),
        Role::Responsable => format!("vous êtes responsable du projet « {projet} »"),
        Role::Createur => format!("vous êtes administrateur (créateur) du projet « {projet} »"),
        Role::Admin => "vous êtes administrateur de l'application".to_owned(),
        Role::Team => format!("vous êtes membre de l'équipe du projet « {projet} »"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_wording() {
        assert_eq!(jours(1), "1 jour");
        assert_eq!(jours(0), "0 jours");
        assert_eq!(jours(16), "16 jours");
    }

    #[test]
    fn uuid_forms() {
        assert_eq!(
            hyphenate("3ee9d7cd426d4cd0bd94d0c09878c2cf"),
            "3ee9d7cd-426d-4cd0-bd94-d0c09878c2cf"
        );
        assert_eq!(hyphenate("42"), "42");
    }

    #[test]
    fn titles_fit_the_column() {
        let long = "é".repeat(200);
        let (t, cut) = fit_title("⚠️ Projet ", &long, " - Fin dans 7 jours");
        assert!(cut);
        assert_eq!(t.chars().count(), TITLE_MAX);
        assert!(t.ends_with("… - Fin dans 7 jours"));
        let (t, cut) = fit_title("a", "b", "c");
        assert_eq!((t.as_str(), cut), ("abc", false));
    }
}
