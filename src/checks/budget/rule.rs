//! Budget: spending above the planned budget alerts the createur and the responsable every day
//! (`BUDGET_DEPASSE`); the recommended profile also alerts once per consumption threshold.
//! Amounts are exact cents; the percentage follows Python's `Decimal` (28 significant digits,
//! half-even), as the reference prints and stores it.

use super::settings::Settings;
use crate::rules::alert::{AlertTexts, Later};
use crate::rules::Rules;
use crate::rules::{
    cents, fit_title, Audiences, Decisions, Dedup, Engine, Person, ProjectInfo, Recipients, Role,
    Seen, SeenSpec, Subject, Target, Texts,
};
use crate::states::Niveau;
use chrono::NaiveDate;
use serde_json::json;

/// The check's name.
pub const CHECK: &str = "budget";
pub const EXCEEDED: &str = "BUDGET_DEPASSE";
pub const WARNING_TYPE: &str = "BUDGET_ATTENTION";
pub const CRITICAL_TYPE: &str = "BUDGET_CRITIQUE";

/// A project in progress with its planned budget and what its lines add up to, in cents.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub projet: ProjectInfo,
    pub devise: String,
    pub budget_cents: i64,
    pub spent_cents: i64,
    pub createur: Option<Person>,
    pub responsable: Option<Person>,
}

/// An exact decimal: `digits × 10^exp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    digits: Vec<u8>,
    exp: i32,
}

/// Significant digits of Python's default decimal context.
const PRECISION: usize = 28;

impl Decimal {
    /// `a / b` for `a ≥ 0`, `b > 0`, rounded to 28 significant digits, half-even.
    pub fn div(a: u128, b: u128) -> Decimal {
        let mut digits: Vec<u8> = a
            .checked_div(b)
            .unwrap_or(0)
            .to_string()
            .bytes()
            .map(|c| c - b'0')
            .collect();
        if digits == [0] {
            digits.clear();
        }
        let mut rem = a.checked_rem(b).unwrap_or(0);
        let mut exp = 0i32;
        while rem != 0 && digits.len() <= PRECISION {
            rem *= 10;
            let d = (rem / b) as u8;
            rem %= b;
            exp -= 1;
            if !(digits.is_empty() && d == 0) {
                digits.push(d);
            }
        }
        if digits.len() > PRECISION {
            let cut = digits.len() - PRECISION;
            let guard = digits[PRECISION];
            let sticky = rem != 0 || digits[PRECISION + 1..].iter().any(|d| *d != 0);
            digits.truncate(PRECISION);
            exp += cut as i32;
            if round_up_if(&mut digits, guard, sticky) {
                // 99…9 rounded up to 100…0: drop the extra zero.
                digits.pop();
                exp += 1;
            }
        }
        if digits.is_empty() {
            digits.push(0);
        }
        Decimal { digits, exp }
    }

    /// Multiplies by 10^n (exact).
    pub fn shift(mut self, n: i32) -> Decimal {
        self.exp += n;
        self
    }

    /// Rounded to `places` decimals, half-even, as text (Python's `format(d, '.1f')`).
    pub fn fixed(&self, places: u32) -> String {
        let mut digits = self.digits.clone();
        let mut exp = self.exp;
        let target = -(places as i32);
        if exp < target {
            let cut = (target - exp) as usize;
            if cut > digits.len() {
                digits = vec![0];
            } else {
                let keep = digits.len() - cut;
                let guard = digits[keep];
                let sticky = digits[keep + 1..].iter().any(|d| *d != 0);
                digits.truncate(keep);
                if digits.is_empty() {
                    digits.push(0);
                    // The kept part is zero: an even last digit.
                    if guard > 5 || (guard == 5 && sticky) {
                        digits[0] = 1;
                    }
                } else {
                    round_up_if(&mut digits, guard, sticky);
                }
            }
            exp = target;
        }
        while exp > target {
            digits.push(0);
            exp -= 1;
        }
        let s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
        let places = places as usize;
        let s = if s.len() <= places {
            format!("{}{s}", "0".repeat(places + 1 - s.len()))
        } else {
            s
        };
        let s = s.trim_start_matches('0');
        let int_len = s.len().saturating_sub(places);
        let (i, f) = s.split_at(int_len);
        let i = if i.is_empty() { "0" } else { i };
        if places == 0 {
            i.to_owned()
        } else {
            format!("{i}.{f:0>places$}")
        }
    }

    /// The nearest binary double (Python's `float(Decimal)`).
    pub fn to_f64(&self) -> f64 {
        let s: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        format!("{s}e{}", self.exp).parse().unwrap_or(f64::NAN)
    }
}

/// Half-even rounding of `digits` given the first dropped digit and whether anything non-zero
/// follows it. Returns true when the carry added a leading digit.
fn round_up_if(digits: &mut Vec<u8>, guard: u8, sticky: bool) -> bool {
    let last_odd = digits.last().is_some_and(|d| d % 2 == 1);
    if !(guard > 5 || (guard == 5 && (sticky || last_odd))) {
        return false;
    }
    for d in digits.iter_mut().rev() {
        if *d == 9 {
            *d = 0;
        } else {
            *d += 1;
            return false;
        }
    }
    digits.insert(0, 1);
    true
}

/// `part / whole × 100` the reference's way.
pub fn percent(part: i64, whole: i64) -> Decimal {
    Decimal::div(
        u128::from(part.unsigned_abs()),
        u128::from(whole.unsigned_abs()),
    )
    .shift(2)
}

/// A cents amount as the nearest double (Python's `float(Decimal('12.34'))`).
fn amount(v: i64) -> f64 {
    cents(v).parse().unwrap_or(f64::NAN)
}

/// Types this check writes (and whose existing rows it reads).
pub fn all_types() -> Vec<String> {
    vec![
        EXCEEDED.to_owned(),
        WARNING_TYPE.to_owned(),
        CRITICAL_TYPE.to_owned(),
    ]
}

/// Threshold alerts are once per planned budget: their key carries it, so existing rows are
/// matched through the ledger; daily rows by project and business day.
pub fn seen_spec(rules: &Rules, today: NaiveDate) -> SeenSpec {
    SeenSpec {
        check: CHECK,
        keys_of_any_date: crate::rules::escalation_keys(
            rules,
            CHECK,
            &[WARNING_TYPE, CRITICAL_TYPE],
            &[WARNING_TYPE, CRITICAL_TYPE, crate::rules::alert::ESCALATION],
        ),
        target: Target::Alerte,
        types: all_types(),
        since: today
            .checked_sub_days(chrono::Days::new(u64::from(rules.repeat_every_days)))
            .map(|s| s.min(crate::rules::ladder_reach(rules, CHECK, today))),
        entity: crate::rules::entity_column,
        discriminators: crate::rules::no_discriminators,
    }
}

/// The lowest spending, in percent of the budget, that can alert (the source filters on it).
pub fn min_percent(set: &Settings) -> u32 {
    set.thresholds.first().copied().unwrap_or(100)
}

fn exceeded_texts(c: &Candidate) -> Texts {
    let nom = &c.projet.nom;
    let dev = &c.devise;
    let over = c.spent_cents - c.budget_cents;
    let pct = percent(over, c.budget_cents);
    let (titre, truncated) = fit_title("🔴 Budget dépassé - ", nom, "");
    Texts {
        alert_type: EXCEEDED.to_owned(),
        niveau: Some(Niveau::Danger),
        titre,
        truncated,
        fixed: format!(
            "Le budget du projet '{nom}' a été dépassé. Budget prévu : {} {dev}, Budget consommé : {} {dev}, Dépassement : {} {dev} (+{}%). ",
            cents(c.budget_cents),
            cents(c.spent_cents),
            cents(over),
            pct.fixed(1)
        ),
        sentences: vec![
            (
                Role::Responsable,
                "En tant que responsable, veuillez prendre des mesures pour contrôler les dépenses."
                    .to_owned(),
            ),
            (
                Role::Createur,
                "En tant qu'administrateur, une révision budgétaire est nécessaire.".to_owned(),
            ),
        ],
        context: std::sync::Arc::new(json!({
            "budget_previsionnel": amount(c.budget_cents),
            "budget_consomme": amount(c.spent_cents),
            "depassement": amount(over),
            "pourcentage_depassement": pct.to_f64(),
            "devise": dev,
            "type_alerte": EXCEEDED,
        })),
    }
}

fn threshold_texts(c: &Candidate, seuil: u32, typ: &str) -> Texts {
    let nom = &c.projet.nom;
    let dev = &c.devise;
    let used = percent(c.spent_cents, c.budget_cents);
    let emoji = if typ == CRITICAL_TYPE { "🟠" } else { "🟡" };
    let (titre, truncated) = fit_title(&format!("{emoji} Budget consommé à {seuil}% - "), nom, "");
    Texts {
        alert_type: typ.to_owned(),
        niveau: Some(Niveau::Warning),
        titre,
        truncated,
        fixed: format!(
            "Le budget du projet '{nom}' est consommé à {}% (seuil d'alerte : {seuil}%). Budget prévu : {} {dev}, Budget consommé : {} {dev}, Reste : {} {dev}. ",
            used.fixed(1),
            cents(c.budget_cents),
            cents(c.spent_cents),
            cents(c.budget_cents - c.spent_cents),
        ),
        sentences: vec![
            (
                Role::Responsable,
                "En tant que responsable, veuillez surveiller les dépenses restantes.".to_owned(),
            ),
            (
                Role::Createur,
                "En tant qu'administrateur, anticipez une éventuelle révision budgétaire."
                    .to_owned(),
            ),
        ],
        context: std::sync::Arc::new(json!({
            "budget_previsionnel": amount(c.budget_cents),
            "budget_consomme": amount(c.spent_cents),
            "pourcentage_consommation": used.to_f64(),
            "seuil": seuil,
            "devise": dev,
            "type_alerte": typ,
        })),
    }
}

/// Evaluates every candidate; `seen` holds what was already recorded, `superusers` the
/// active superusers an escalation rung may add.
pub fn evaluate<I>(
    cands: I,
    superusers: &[Person],
    rules: &Rules,
    set: &Settings,
    today: NaiveDate,
    seen: &Seen,
) -> Decisions
where
    I: IntoIterator<Item = Candidate>,
{
    let mut e = Engine::new(rules, today, seen);
    let highest = set.thresholds.last().copied();
    for c in cands {
        if c.budget_cents <= 0 {
            e.out.counters.skip("budget_not_positive");
            continue;
        }
        let reached: Vec<u32> = set
            .thresholds
            .iter()
            .copied()
            .filter(|t| {
                i128::from(c.spent_cents) * 100 >= i128::from(*t) * i128::from(c.budget_cents)
            })
            .collect();
        let exceeded = c.spent_cents > c.budget_cents;
        if !exceeded && reached.is_empty() {
            continue;
        }
        let r = e.active_only(Recipients::createur_and_responsable(
            c.createur.as_ref(),
            c.responsable.as_ref(),
        ));
        let subject = Subject {
            check: CHECK,
            target: Target::Alerte,
            entity: c.projet.id.clone(),
            entity_id: &c.projet.id,
            projet: &c.projet,
            etape_id: None,
            etape_ordre: None,
            arm: format!("budget={}", cents(c.budget_cents)),
        };
        let typ = |t: u32| {
            if Some(t) == highest && set.thresholds.len() > 1 {
                CRITICAL_TYPE
            } else {
                WARNING_TYPE
            }
        };
        let n = if exceeded {
            let t = Later::new(EXCEEDED, || exceeded_texts(&c));
            let n = e.emit(&subject, &t, &r, Dedup::Daily);
            let who = Audiences {
                createur: c.createur.as_ref(),
                responsable: c.responsable.as_ref(),
                team: &[],
                superusers,
            };
            let since = e.began(&subject, t.alert_type(), &r);
            n + e.escalate(&subject, &t, &r, since, &who)
        } else {
            let Some((&top, lower)) = reached.split_last() else {
                continue;
            };
            let disc = |t: u32| format!("budget={}:seuil={t}", cents(c.budget_cents));
            let n = e.emit(
                &subject,
                &threshold_texts(&c, top, typ(top)),
                &r,
                Dedup::Once(&disc(top)),
            );
            for t in lower {
                e.supersede(&subject, typ(*t), &r, &disc(*t));
            }
            n
        };
        e.entity_done(n);
    }
    e.finish()
}

#[cfg(test)]
mod tests {
    /// The check's settings for `rules`' profile: the reference's, or its documented defaults.
    fn set(rules: &crate::rules::Rules) -> super::Settings {
        use crate::checks::settings::Configure;
        match rules.profile {
            crate::rules::Profile::Reference => super::Settings::reference(),
            crate::rules::Profile::Recommended => {
                crate::checks::settings::defaults(super::super::settings::KEYS)
            }
        }
    }

    use super::*;

    /// The check without superusers (no escalation reaches them in these tests).
    fn evaluate<I: IntoIterator<Item = Candidate>>(
        c: I,
        r: &Rules,
        t: NaiveDate,
        s: &Seen,
    ) -> Decisions {
        super::evaluate(c, &[], r, &set(r), t, s)
    }
    use crate::rules::tests_support::{person, projet, recommended, today};

    fn cand(budget: i64, spent: i64) -> Candidate {
        Candidate {
            projet: projet(),
            devise: "EUR".into(),
            budget_cents: budget,
            spent_cents: spent,
            createur: Some(person("admin", true)),
            responsable: Some(person("r1", true)),
        }
    }

    #[test]
    fn percentage_rounds_like_python_decimal() {
        assert_eq!(percent(150, 100_000).fixed(1), "0.2");
        assert_eq!(percent(900, 200_000).fixed(1), "0.4");
        assert_eq!(percent(700, 200_000).fixed(1), "0.4");
        assert_eq!(percent(250_000, 1_000_000).fixed(1), "25.0");
        assert_eq!(percent(100_000, 300_000).to_f64(), 33.333333333333336);
        assert_eq!(percent(6_543_211, 123_456_789).to_f64(), 5.300000958230009);
        assert_eq!(percent(100_025, 1_500_000).to_f64(), 6.668333333333333);
        assert_eq!(percent(150, 100_000).to_f64(), 0.15);
        assert_eq!(percent(1_417_527, 2_400_000).to_f64(), 59.063625);
        assert_eq!(percent(2, 3).fixed(1), "66.7");
        assert_eq!(percent(1, 3_000_000_000).fixed(1), "0.0");
        assert_eq!(percent(999_999, 1).fixed(1), "99999900.0");
        assert_eq!(cents(123_456_789), "1234567.89");
        assert_eq!(cents(5), "0.05");
    }

    #[test]
    fn exceeded_reference_texts() {
        let rules = Rules::reference(chrono_tz::Europe::Paris);
        let d = evaluate(
            [cand(1_000_000, 1_250_000), cand(1_000_000, 1_000_000)],
            &rules,
            today(),
            &Seen::default(),
        );
        assert_eq!(d.alerts.len(), 2, "exactly 100 % does not alert");
        let a = d.alerts.iter().find(|a| a.recipient_id == "admin").unwrap();
        assert_eq!(a.message, "Le budget du projet 'R&D <Alpha>' a été dépassé. Budget prévu : 10000.00 EUR, Budget consommé : 12500.00 EUR, Dépassement : 2500.00 EUR (+25.0%). En tant qu'administrateur, une révision budgétaire est nécessaire.");
        assert_eq!(
            crate::store::python_json(&a.context),
            r#"{"budget_previsionnel": 10000.0, "budget_consomme": 12500.0, "depassement": 2500.0, "pourcentage_depassement": 25.0, "devise": "EUR", "type_alerte": "BUDGET_DEPASSE"}"#
        );
        let d = evaluate(
            [cand(0, 10), cand(-5, 10)],
            &rules,
            today(),
            &Seen::default(),
        );
        assert!(d.alerts.is_empty());
        assert_eq!(d.counters.skipped.get("budget_not_positive"), Some(&2));
        assert_eq!(d.counters.ignored_entities, 0);
    }

    #[test]
    fn recommended_thresholds_fire_once_per_planned_budget() {
        let rules = recommended();
        let d = evaluate(
            [cand(1_000_000, 749_999)],
            &rules,
            today(),
            &Seen::default(),
        );
        assert!(d.alerts.is_empty());
        let d = evaluate(
            [cand(1_000_000, 750_000)],
            &rules,
            today(),
            &Seen::default(),
        );
        assert_eq!(d.alerts[0].alert_type, WARNING_TYPE);
        assert_eq!(d.alerts[0].titre, "🟡 Budget consommé à 75% - R&D <Alpha>");
        let d = evaluate(
            [cand(1_000_000, 950_000)],
            &rules,
            today(),
            &Seen::default(),
        );
        assert_eq!(d.alerts.len(), 2);
        assert_eq!(d.alerts[0].alert_type, CRITICAL_TYPE);
        assert_eq!(d.alerts[0].niveau, Some(Niveau::Warning));
        assert_eq!(d.superseded.len(), 2, "the 75 % alert is passed over");
        let mut seen = Seen::default();
        for k in d.alerts.iter().map(|a| a.key.clone()) {
            seen.add_key(&k);
        }
        assert!(evaluate([cand(1_000_000, 960_000)], &rules, today(), &seen)
            .alerts
            .is_empty());
        assert_eq!(
            evaluate([cand(1_100_000, 1_000_000)], &rules, today(), &seen)
                .alerts
                .len(),
            2,
            "a new planned budget re-arms"
        );
    }
}
