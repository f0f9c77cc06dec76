//! Mail rendering: MiniJinja templates embedded from `templates/` (overridable file by file from
//! `mail.templates_dir`), the view an outbox payload becomes, and the subject/text/HTML parts.

use super::settings::Settings as MailCfg;
use crate::rules::{fr_date, hyphenate, jours};
use anyhow::{anyhow, Context, Result};
use chrono::{NaiveDate, NaiveDateTime};
use minijinja::{AutoEscape, Environment, Output, State, Value};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The templates compiled into the binary; a file of the same name in `mail.templates_dir`
/// replaces one.
pub const EMBEDDED: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    (
        "_alert_body.html",
        include_str!("../../templates/_alert_body.html"),
    ),
    (
        "_alert_details.txt",
        include_str!("../../templates/_alert_details.txt"),
    ),
    ("alert.html", include_str!("../../templates/alert.html")),
    ("alert.txt", include_str!("../../templates/alert.txt")),
    (
        "alert.subject.txt",
        include_str!("../../templates/alert.subject.txt"),
    ),
    (
        "stage.subject.txt",
        include_str!("../../templates/stage.subject.txt"),
    ),
    ("digest.html", include_str!("../../templates/digest.html")),
    ("digest.txt", include_str!("../../templates/digest.txt")),
    (
        "digest.subject.txt",
        include_str!("../../templates/digest.subject.txt"),
    ),
    ("daily.html", include_str!("../../templates/daily.html")),
    ("daily.txt", include_str!("../../templates/daily.txt")),
    (
        "daily.subject.txt",
        include_str!("../../templates/daily.subject.txt"),
    ),
    ("test.html", include_str!("../../templates/test.html")),
    ("test.txt", include_str!("../../templates/test.txt")),
    (
        "test.subject.txt",
        include_str!("../../templates/test.subject.txt"),
    ),
];

/// What the check wrote for one alert's mail: the outbox row's `payload` with its snapshot
/// (`sigov_mail_snapshot.body`), or the payload alone for rows queued before snapshots.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Payload {
    pub alert_id: i64,
    pub table: String,
    #[serde(rename = "type")]
    pub alert_type: String,
    pub niveau: Option<String>,
    pub titre: String,
    pub message: String,
    #[serde(default)]
    pub context: serde_json::Value,
    pub recipient: PayloadRecipient,
    pub projet: PayloadProjet,
    #[serde(default)]
    pub etape_ordre: Option<i64>,
    /// UTC, `YYYY-MM-DD HH:MM:SS.ffffff`.
    pub created_at: String,
    /// Why the recipient receives it, and the rule (the footer); empty in rows queued before.
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub rule: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PayloadRecipient {
    pub id: String,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PayloadProjet {
    pub id: String,
    pub nom: String,
    pub client: String,
    /// The status label ("En cours").
    pub statut: String,
}

impl Payload {
    /// A mail's whole payload from its row's `own` part and its `snapshot`; a row queued
    /// before snapshots holds it all.
    pub fn parse(own: &str, snapshot: Option<&str>) -> Result<Payload> {
        let Some(snapshot) = snapshot else {
            return serde_json::from_str(own).context("outbox payload is not what sigov writes");
        };
        let mut whole: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(snapshot).context("mail snapshot is not what sigov writes")?;
        let own: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(own).context("outbox payload is not what sigov writes")?;
        whole.extend(own);
        serde_json::from_value(serde_json::Value::Object(whole))
            .context("outbox payload and its snapshot are not what sigov writes")
    }
    fn is_stage(&self) -> bool {
        self.table == "core_notificationetape"
    }
}

/// The facts of one alert that templates show (`a` in the templates).
#[derive(Debug, Clone, Serialize)]
pub struct AlertView {
    /// `alert` or `stage`.
    pub kind: &'static str,
    pub titre: String,
    pub message: String,
    pub type_code: String,
    pub type_label: String,
    pub niveau: String,
    pub niveau_label: String,
    /// `danger`, `warning` or `info`: the color of the alert box.
    pub level: &'static str,
    pub box_title: String,
    pub projet_nom: String,
    pub projet_client: String,
    pub projet_statut: String,
    pub projet_url: String,
    pub etape_label: Option<String>,
    pub etape_ordre: Option<i64>,
    pub date_limite: Option<String>,
    pub jours_restants: Option<i64>,
    pub jours_restants_text: Option<String>,
    pub jours_retard: Option<i64>,
    pub jours_retard_text: Option<String>,
    pub date_notification: String,
    pub actions: Vec<String>,
    pub reason: String,
    pub rule: String,
}

/// A digest's alerts of one project: its card is shown once, then each alert.
#[derive(serde::Serialize)]
struct ProjectAlerts<'a> {
    projet_nom: &'a str,
    projet_client: &'a str,
    projet_statut: &'a str,
    projet_url: &'a str,
    alerts: Vec<&'a AlertView>,
}

/// `views` grouped by project, in the order each project first appears.
fn by_project(views: &[AlertView]) -> Vec<ProjectAlerts<'_>> {
    let mut out: Vec<ProjectAlerts<'_>> = Vec::new();
    for v in views {
        match out.iter_mut().find(|g| g.projet_url == v.projet_url) {
            Some(g) => g.alerts.push(v),
            None => out.push(ProjectAlerts {
                projet_nom: &v.projet_nom,
                projet_client: &v.projet_client,
                projet_statut: &v.projet_statut,
                projet_url: &v.projet_url,
                alerts: vec![v],
            }),
        }
    }
    out
}

/// Label of a level; a value outside the choices (the web application's `URGENT`) as is.
pub fn niveau_label(code: &str) -> String {
    match code {
        "INFO" => "Information",
        "WARNING" => "Avertissement",
        "DANGER" => "Critique",
        other => other,
    }
    .to_owned()
}

fn level(niveau: Option<&str>) -> &'static str {
    match niveau {
        Some("INFO") => "info",
        Some("WARNING") => "warning",
        // Stage delays carry no level; they are overdue, like DANGER alerts.
        Some("DANGER") | Some("URGENT") | None => "danger",
        Some(_) => "warning",
    }
}

fn context_date(ctx: &serde_json::Value) -> Option<String> {
    ["date_echeance", "date_fin", "date_fin_prevue"]
        .iter()
        .find_map(|k| ctx.get(*k).and_then(|v| v.as_str()))
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .map(fr_date)
}

/// `dd/mm/YYYY à HH:MM` in the business time zone.
pub fn local_time(cfg: &MailCfg, utc: NaiveDateTime) -> String {
    utc.and_utc()
        .with_timezone(&cfg.tz)
        .format("%d/%m/%Y à %H:%M")
        .to_string()
}

impl AlertView {
    /// `presented`: the type's label and advice, from its check's label template.
    pub fn new(p: &Payload, cfg: &MailCfg, presented: Presented) -> AlertView {
        let stage = p.is_stage();
        let ctx = &p.context;
        let int = |k: &str| ctx.get(k).and_then(|v| v.as_i64());
        let created = crate::clock::parse_stored_datetime(&p.created_at)
            .map(|t| local_time(cfg, t))
            .unwrap_or_else(|| p.created_at.clone());
        let etape_label = stage.then(|| {
            ctx.get("etape_label")
                .or_else(|| ctx.get("etape_nom"))
                .and_then(|v| v.as_str())
                .map(|c| {
                    cfg.labels
                        .stage_type_label(c)
                        .unwrap_or_else(|| c.to_owned())
                })
                .unwrap_or_default()
        });
        let niveau = p.niveau.clone().unwrap_or_default();
        let Presented {
            label: type_label,
            advice,
        } = presented;
        let jours_restants = int("jours_restants");
        let jours_retard = int("jours_retard");
        AlertView {
            kind: if stage { "stage" } else { "alert" },
            titre: p.titre.clone(),
            message: p.message.clone(),
            type_code: p.alert_type.clone(),
            niveau_label: niveau_label(&niveau),
            niveau,
            level: level(p.niveau.as_deref()),
            box_title: match &etape_label {
                Some(l) => format!("{type_label} : {l}"),
                None => type_label.clone(),
            },
            type_label,
            projet_nom: p.projet.nom.clone(),
            projet_client: p.projet.client.clone(),
            projet_statut: p.projet.statut.clone(),
            projet_url: format!("{}/projets/{}/", cfg.base_url, hyphenate(&p.projet.id)),
            etape_label,
            etape_ordre: p.etape_ordre,
            date_limite: context_date(ctx),
            jours_restants,
            jours_restants_text: jours_restants.map(|n| match n {
                0 => "aujourd'hui".to_owned(),
                n => jours(n),
            }),
            jours_retard,
            jours_retard_text: jours_retard.map(jours),
            date_notification: created,
            actions: advice,
            reason: p.reason.clone(),
            rule: p.rule.clone(),
        }
    }
}

/// How an alert type is presented: its label and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub label: String,
    pub advice: Vec<String>,
}

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The compiled templates and the settings they show.
pub struct Renderer {
    env: Environment<'static>,
    cfg: MailCfg,
    /// The checks' label templates, in the registry's order.
    label_templates: Vec<String>,
    /// What they said, by alert type: a delivery renders each type's labels once, not once
    /// per mail.
    presented: std::cell::RefCell<std::collections::HashMap<String, Presented>>,
}

/// Escapes exactly what Django escapes (`& < > " '`); MiniJinja would also escape `/`,
/// which garbles every URL in an attribute for no gain.
fn django_escape(out: &mut Output, state: &State, value: &Value) -> Result<(), minijinja::Error> {
    if state.auto_escape() == AutoEscape::Html && !value.is_safe() {
        if let Some(s) = value.as_str() {
            let mut buf = String::with_capacity(s.len());
            for c in s.chars() {
                match c {
                    '&' => buf.push_str("&amp;"),
                    '<' => buf.push_str("&lt;"),
                    '>' => buf.push_str("&gt;"),
                    '"' => buf.push_str("&quot;"),
                    '\'' => buf.push_str("&#x27;"),
                    c => buf.push(c),
                }
            }
            return out.write_str(&buf).map_err(minijinja::Error::from);
        }
    }
    minijinja::escape_formatter(out, state, value)
}

impl Renderer {
    /// Compiles every template (overrides included): a template error shows here, once, before
    /// any mail is claimed.
    pub fn new(cfg: &MailCfg) -> Result<Renderer> {
        if let Some(dir) = &cfg.templates_dir {
            anyhow::ensure!(
                dir.is_dir(),
                "mail.templates_dir `{}` is not a directory (mail would go out without the site's templates)",
                dir.display()
            );
        }
        let mut env = Environment::new();
        // A misspelt variable in a site's template is an error naming the template, never a
        // silently empty subject or link.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        env.set_formatter(django_escape);
        env.set_keep_trailing_newline(false);
        let labels = cfg.labels.label_templates();
        let all = EMBEDDED
            .iter()
            .map(|(n, t)| ((*n).to_owned(), *t))
            .chain(labels.iter().cloned());
        for (name, embedded) in all {
            let text = match override_path(cfg, &name)? {
                Some(p) => std::fs::read_to_string(&p)
                    .with_context(|| format!("cannot read mail template `{}`", p.display()))?,
                None => embedded.to_owned(),
            };
            env.add_template_owned(name.clone(), text)
                .map_err(|e| anyhow!("mail template `{name}`: {e}"))?;
        }
        Ok(Renderer {
            env,
            cfg: cfg.clone(),
            label_templates: labels.into_iter().map(|(n, _)| n).collect(),
            presented: Default::default(),
        })
    }

    /// The label and advice of an alert type: what the first check's label template that knows
    /// the type says (`label: …`, `advice: …` lines); a type no check knows (the web
    /// application's own) is shown by its code, without advice.
    pub fn present(&self, code: &str) -> Result<Presented> {
        if let Some(p) = self.presented.borrow().get(code) {
            return Ok(p.clone());
        }
        let p = self.present_uncached(code)?;
        self.presented
            .borrow_mut()
            .insert(code.to_owned(), p.clone());
        Ok(p)
    }

    fn present_uncached(&self, code: &str) -> Result<Presented> {
        for name in &self.label_templates {
            let text = self
                .env
                .get_template(name)
                .and_then(|t| t.render(minijinja::context! { code }))
                .map_err(|e| anyhow!("mail template `{name}`: {e:#}"))?;
            let mut label = None;
            let mut advice = Vec::new();
            for line in text.lines().map(str::trim) {
                if let Some(l) = line.strip_prefix("label:") {
                    label = Some(l.trim().to_owned());
                } else if let Some(a) = line.strip_prefix("advice:") {
                    advice.push(a.trim().to_owned());
                }
            }
            if label.is_some() || !advice.is_empty() {
                return Ok(Presented {
                    label: label.unwrap_or_else(|| code.to_owned()),
                    advice,
                });
            }
        }
        Ok(Presented {
            label: code.to_owned(),
            advice: Vec::new(),
        })
    }

    /// What base.html shows; `headings`: its heading and subheading, unless the template
    /// says them.
    fn base(
        &self,
        headings: Option<(&str, &str)>,
        destinataire: &str,
        now: NaiveDateTime,
    ) -> serde_json::Value {
        let mut v = serde_json::json!({
            "site_name": self.cfg.site_name,
            "base_url": self.cfg.base_url,
            "logo_url": format!("{}/media/logos/jconsult_logo.png", self.cfg.base_url),
            "destinataire_nom": destinataire,
            "generated_at": local_time(&self.cfg, now),
            "version": env!("CARGO_PKG_VERSION"),
            "host": crate::host::hostname(),
            "preferences": self.preferences_hint(),
            // mail.reply_address: people may answer (the footer must not say otherwise).
            "replies": !self.cfg.reply_address.is_empty(),
        });
        if let Some((heading, subheading)) = headings {
            v["heading"] = heading.into();
            v["subheading"] = subheading.into();
        }
        v
    }

    fn render(&self, stem: &str, subject: &str, ctx: serde_json::Value) -> Result<Rendered> {
        let ctx = Value::from_serialize(&ctx);
        let one = |name: &str| -> Result<String> {
            self.env
                .get_template(name)
                .and_then(|t| t.render(&ctx))
                .map_err(|e| anyhow!("mail template `{name}`: {e:#}"))
        };
        Ok(Rendered {
            subject: one_line_subject(&one(subject)?),
            text: one(&format!("{stem}.txt"))?,
            html: one(&format!("{stem}.html"))?,
        })
    }

    /// One alert's mail.
    pub fn alert(&self, p: &Payload, now: NaiveDateTime) -> Result<Rendered> {
        let a = AlertView::new(p, &self.cfg, self.present(&p.alert_type)?);
        // The heading follows the alert's kind and level: alert.html says it.
        let mut ctx = self.base(None, &p.recipient.name, now);
        ctx["a"] = serde_json::to_value(&a)?;
        let subject = if a.kind == "stage" {
            "stage.subject.txt"
        } else {
            "alert.subject.txt"
        };
        self.render("alert", subject, ctx)
    }

    /// One mail listing several alerts of one recipient.
    pub fn digest(&self, ps: &[Payload], now: NaiveDateTime) -> Result<Rendered> {
        let first = ps.first().ok_or_else(|| anyhow!("empty digest"))?;
        let views = ps
            .iter()
            .map(|p| Ok(AlertView::new(p, &self.cfg, self.present(&p.alert_type)?)))
            .collect::<Result<Vec<AlertView>>>()?;
        let mut ctx = self.base(
            Some(("🔔 Vos alertes", "Le point sur vos projets")),
            &first.recipient.name,
            now,
        );
        ctx["alerts"] = serde_json::to_value(&views)?;
        ctx["projects"] = serde_json::to_value(by_project(&views))?;
        ctx["reasons"] = Self::reasons(&views);
        self.render("digest", "digest.subject.txt", ctx)
    }

    /// How a person changes what they receive (`mail.preferences_contact`).
    fn preferences_hint(&self) -> String {
        let c = self.cfg.preferences_contact.trim();
        if !self.cfg.reply_address.is_empty() {
            return "Répondez à ce message par OK si l'alerte est prise en charge (plus de rappel ni d'escalade), REPORTER 3 pour la reporter de 3 jours, STOP pour ne plus recevoir ce type d'alerte, RECAP 08:00 pour un récapitulatif quotidien, AIDE pour l'aide.".to_owned();
        }
        if c.is_empty() {
            format!(
                "Pour ne plus recevoir un type d'alerte, ou recevoir un récapitulatif quotidien, adressez-vous à l'administrateur de {}.",
                self.cfg.site_name
            )
        } else {
            format!("Pour ne plus recevoir un type d'alerte, ou recevoir un récapitulatif quotidien : {c}")
        }
    }

    /// Why the person receives a digest's alerts, for its footer: each distinct reason once,
    /// with the rules behind it.
    fn reasons(views: &[AlertView]) -> serde_json::Value {
        let mut by: Vec<(&str, Vec<&str>)> = Vec::new();
        for v in views.iter().filter(|v| !v.reason.is_empty()) {
            match by.iter_mut().find(|(r, _)| *r == v.reason) {
                Some((_, rules)) => {
                    if !rules.contains(&v.rule.as_str()) {
                        rules.push(&v.rule);
                    }
                }
                None => by.push((&v.reason, vec![&v.rule])),
            }
        }
        by.iter()
            .map(|(reason, rules)| {
                serde_json::json!({"reason": reason, "rule": rules.join(", "), "plural": rules.len() > 1})
            })
            .collect()
    }

    /// A daily digest (`sigov prefs set USER --digest HH:MM`): every alert of the day once, one
    /// line each, grouped by project with its link.
    pub fn daily(&self, ps: &[Payload], now: NaiveDateTime) -> Result<Rendered> {
        let first = ps.first().ok_or_else(|| anyhow!("empty digest"))?;
        let mut views: Vec<AlertView> = Vec::with_capacity(ps.len());
        let mut ids: Vec<i64> = Vec::new();
        for p in ps {
            // Each alert once, whatever brought it twice.
            if ids.contains(&p.alert_id) && p.alert_id != 0 {
                continue;
            }
            ids.push(p.alert_id);
            views.push(AlertView::new(p, &self.cfg, self.present(&p.alert_type)?));
        }
        let mut projects: Vec<(String, String, Vec<&AlertView>)> = Vec::new();
        for v in &views {
            match projects
                .iter_mut()
                .find(|(nom, url, _)| *nom == v.projet_nom && *url == v.projet_url)
            {
                Some((_, _, l)) => l.push(v),
                None => projects.push((v.projet_nom.clone(), v.projet_url.clone(), vec![v])),
            }
        }
        let local = chrono::TimeZone::from_utc_datetime(&self.cfg.tz, &now);
        let mut ctx = self.base(
            Some((
                "🗓️ Votre récapitulatif",
                "Les alertes du jour sur vos projets",
            )),
            &first.recipient.name,
            now,
        );
        ctx["jour"] = local.format("%d/%m/%Y").to_string().into();
        ctx["heure"] = local.format("%H:%M").to_string().into();
        ctx["count"] = views.len().into();
        ctx["reasons"] = Self::reasons(&views);
        ctx["projects"] = projects
            .iter()
            .map(|(nom, url, l)| serde_json::json!({"nom": nom, "url": url, "alerts": l}))
            .collect();
        self.render("daily", "daily.subject.txt", ctx)
    }

    /// The message `sigov mail test` sends.
    pub fn test(&self, to: &str, now: NaiveDateTime) -> Result<Rendered> {
        let ctx = self.base(
            Some((
                "✅ Message de test",
                "La configuration de l'envoi fonctionne",
            )),
            to,
            now,
        );
        self.render("test", "test.subject.txt", ctx)
    }
}

/// A subject is one line: control characters (a CR/LF in a project name) become spaces, so no
/// header can be injected whatever the template or the data.
pub fn one_line_subject(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn override_path(cfg: &MailCfg, name: &str) -> Result<Option<PathBuf>> {
    let Some(dir) = cfg.templates_dir.as_ref() else {
        return Ok(None);
    };
    let p = dir.join(name);
    if !p.is_file() {
        return Ok(None);
    }
    // A template may be a link inside the directory, never one that leaves it, whether the
    // file itself or a folder on its way (labels/) is the link.
    let target = std::fs::canonicalize(&p)
        .with_context(|| format!("cannot resolve mail template `{}`", p.display()))?;
    let root = std::fs::canonicalize(dir)
        .with_context(|| format!("cannot resolve mail.templates_dir `{}`", dir.display()))?;
    anyhow::ensure!(
        target.starts_with(&root),
        "mail template `{}` is a symbolic link out of mail.templates_dir; refused",
        p.display()
    );
    Ok(Some(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn cfg() -> MailCfg {
        crate::config::Config::from_layers(
            crate::config::Layers::load(&Default::default(), &|_| None).unwrap(),
        )
        .unwrap()
        .mail
    }

    fn payload(table: &str, typ: &str, niveau: Option<&str>, ctx: serde_json::Value) -> Payload {
        Payload {
            alert_id: 7,
            table: table.into(),
            alert_type: typ.into(),
            niveau: niveau.map(str::to_owned),
            titre: "🔴 Projet R&D <Alpha> - EN RETARD".into(),
            message: "Le projet 'R&D <Alpha>' a dépassé sa date de fin.\nDeuxième ligne".into(),
            context: ctx,
            recipient: PayloadRecipient {
                id: "u1".into(),
                name: "Zoé L'Hôte".into(),
                email: "zoe@sigov.test".into(),
            },
            projet: PayloadProjet {
                id: "3ee9d7cd426d4cd0bd94d0c09878c2cf".into(),
                nom: "R&D <Alpha>".into(),
                client: "L'Été \"indien\"".into(),
                statut: "En cours".into(),
            },
            etape_ordre: None,
            created_at: "2026-11-22 10:41:00.000000".into(),
            reason: "vous êtes responsable du projet « R&D <Alpha> »".into(),
            rule: "échéance dépassée".into(),
        }
    }

    #[test]
    fn every_mail_says_why_and_how_to_change_it_and_a_daily_digest_is_compact() {
        let mut c = cfg();
        c.preferences_contact = "https://aide.example.org/alertes".into();
        let r = Renderer::new(&c).unwrap();
        let p = payload(
            "core_alerteprojet",
            "ECHEANCE_DEPASSEE",
            Some("DANGER"),
            serde_json::json!({}),
        );
        let one = r.alert(&p, now()).unwrap();
        for body in [&one.text, &one.html] {
            assert!(
                body.contains("Vous recevez ce message car vous êtes responsable du projet"),
                "{body}"
            );
            assert!(body.contains("règle : échéance dépassée"));
            assert!(body.contains("https://aide.example.org/alertes"));
        }
        let mut other = p.clone();
        other.alert_id = 8;
        other.titre = "⚠️ Projet Beta - Fin dans 7 jours".into();
        other.projet.nom = "Beta".into();
        other.projet.id = "4ee9d7cd426d4cd0bd94d0c09878c2cf".into();
        // The same alert twice (alert id 7) is listed once.
        let d = r.daily(&[p.clone(), other, p], now()).unwrap();
        assert!(
            d.subject
                .contains("Récapitulatif du 22/11/2026 : 2 alertes"),
            "{}",
            d.subject
        );
        assert_eq!(d.text.matches("EN RETARD").count(), 1, "{}", d.text);
        assert!(d.text.contains("== R&D <Alpha> (1) http://"), "{}", d.text);
        assert!(d.text.contains("== Beta (1)"));
        assert!(d
            .html
            .contains("/projets/4ee9d7cd-426d-4cd0-bd94-d0c09878c2cf/"));
        assert!(
            d.text.contains("récapitulatif quotidien à 11:41"),
            "{}",
            d.text
        );
    }

    fn now() -> NaiveDateTime {
        crate::clock::parse_stored_datetime("2026-11-22 10:41:00.000000").unwrap()
    }

    #[test]
    fn alert_mail_text_html_and_subject() {
        let r = Renderer::new(&cfg()).unwrap();
        let p = payload(
            "core_alerteprojet",
            "ECHEANCE_DEPASSEE",
            Some("DANGER"),
            serde_json::json!({"jours_retard": 2, "date_fin": "2026-11-20", "type_alerte": "RETARD"}),
        );
        let m = r.alert(&p, now()).unwrap();
        assert_eq!(
            m.subject,
            "[SI-Gouvernance] ⚠️ Alerte: 🔴 Projet R&D <Alpha> - EN RETARD"
        );
        // Text: the reference's layout, business time (11:41 in Paris), no trailing newline.
        assert!(
            m.text
                .starts_with("Bonjour Zoé L'Hôte,\n\nLe projet 'R&D <Alpha>'"),
            "{}",
            m.text
        );
        assert!(m.text.contains("- Type: Échéance dépassée\n- Niveau: Critique\n- Projet: R&D <Alpha>\n- Client: L'Été \"indien\"\n- Date limite: 20/11/2026\n- Jours de retard: 2\n\nDate de notification: 22/11/2026 à 11:41"), "{}", m.text);
        assert!(!m.text.ends_with('\n'));
        // HTML: the five characters Django escapes, the red box, the filled deadline row.
        assert!(
            m.html.contains("<strong>R&amp;D &lt;Alpha&gt;</strong>"),
            "{}",
            m.html
        );
        assert!(m.html.contains("L&#x27;Été &quot;indien&quot;"));
        assert!(m.html.contains("Bonjour Zoé L&#x27;Hôte,"));
        assert!(m.html.contains("box box-danger"));
        assert!(m
            .html
            .contains("Date limite :</span><span class=\"value\">20/11/2026"));
        assert!(m.html.contains(
            "href=\"http://localhost:8000/projets/3ee9d7cd-426d-4cd0-bd94-d0c09878c2cf/\""
        ));
        assert!(!m.html.contains("<Alpha>"));
    }

    #[test]
    fn warning_box_stage_mail_and_digest() {
        let r = Renderer::new(&cfg()).unwrap();
        let w = payload(
            "core_alerteprojet",
            "ECHEANCE_J1",
            Some("WARNING"),
            serde_json::json!({"jours_restants": 1, "date_fin": "2026-11-23"}),
        );
        let m = r.alert(&w, now()).unwrap();
        assert!(m.html.contains("box box-warning"));
        assert!(m.html.contains("<strong>1 jour</strong>"), "no `1 jours`");
        let mut s = payload(
            "core_notificationetape",
            "RETARD_ETAPE",
            None,
            serde_json::json!({"jours_retard": 16, "etape_nom": "DEVELOPPEMENT", "date_fin_prevue": "2026-11-06"}),
        );
        s.titre = "🔴 Étape DEVELOPPEMENT - EN RETARD".into();
        s.etape_ordre = Some(3);
        let m = r.alert(&s, now()).unwrap();
        assert_eq!(
            m.subject,
            "[SI-Gouvernance] Étape: 🔴 Étape DEVELOPPEMENT - EN RETARD"
        );
        assert!(m.text.contains("Détails de l'étape:\n- Étape: Développement\n- Projet: R&D <Alpha>\n- Client: L'Été \"indien\"\n- Ordre: Étape 3\n- Date limite: 06/11/2026\n- Jours de retard: 16"), "{}", m.text);
        assert!(m.html.contains("Retard d&#x27;étape : Développement"));
        let d = r.digest(&[w, s], now()).unwrap();
        assert_eq!(
            d.subject,
            "[SI-Gouvernance] 2 alertes: 🔴 Projet R&D <Alpha> - EN RETARD (et 1 autre)"
        );
        // One project: its card once, both alerts under it, one button.
        assert_eq!(d.html.matches("class=\"item project\"").count(), 1);
        assert_eq!(d.html.matches("<div class=\"card\">").count(), 1);
        assert_eq!(d.html.matches("<div class=\"box box-").count(), 2);
        assert_eq!(d.html.matches("class=\"button\"").count(), 1);
        assert!(d.text.contains("2 alertes concernent vos projets."));
    }

    #[test]
    fn subject_is_one_line_whatever_the_title() {
        assert_eq!(
            one_line_subject("[S] a\r\nBcc: x@evil.test\n b"),
            "[S] a Bcc: x@evil.test b"
        );
    }

    #[test]
    fn override_directory_replaces_one_template() {
        let dir_tmp = tempfile::tempdir().unwrap();
        let dir = dir_tmp.path().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("alert.subject.txt"), "Alerte {{ a.type_label }}").unwrap();
        let mut c = cfg();
        c.templates_dir = Some(dir.clone());
        let r = Renderer::new(&c).unwrap();
        let p = payload(
            "core_alerteprojet",
            "BUDGET_DEPASSE",
            Some("WARNING"),
            serde_json::json!({}),
        );
        let m = r.alert(&p, now()).unwrap();
        assert_eq!(m.subject, "Alerte Budget dépassé");
        assert!(m.text.contains("- Type: Budget dépassé"));
        std::fs::write(dir.join("alert.html"), "{% if %}").unwrap();
        let e = Renderer::new(&c).err().unwrap().to_string();
        assert!(e.contains("mail template `alert.html`"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_check_s_labels_are_a_template_a_site_overrides() {
        let p = payload(
            "core_alerteprojet",
            "BUDGET_DEPASSE",
            Some("DANGER"),
            serde_json::json!({}),
        );
        let r = Renderer::new(&cfg()).unwrap();
        let shown = r.present("BUDGET_DEPASSE").unwrap();
        assert_eq!(shown.label, "Budget dépassé");
        assert_eq!(shown.advice.len(), 4);
        assert_eq!(
            r.present("ECHEANCE_J14").unwrap().label,
            "Échéance dans 14 jours"
        );
        assert_eq!(
            r.present("TACHE_ECHEANCE").unwrap().label,
            "Tâche à échéance"
        );
        // The web application's own types: their code, no advice.
        let own = r.present("URGENCE_CLIENT").unwrap();
        assert_eq!(
            (own.label.as_str(), own.advice.len()),
            ("URGENCE_CLIENT", 0)
        );
        let dir_tmp = tempfile::tempdir().unwrap();
        let dir = dir_tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("labels")).unwrap();
        std::fs::write(
            dir.join("labels/budget.txt"),
            "{% if code == \"BUDGET_DEPASSE\" %}label: Dépassement\nadvice: Appelez le DAF{% endif %}",
        )
        .unwrap();
        let mut c = cfg();
        c.templates_dir = Some(dir.clone());
        let m = Renderer::new(&c).unwrap().alert(&p, now()).unwrap();
        assert!(m.text.contains("- Type: Dépassement"), "{}", m.text);
        assert!(m.html.contains("<li>Appelez le DAF</li>"), "{}", m.html);
        assert!(!m.html.contains("Analysez"));
        // A folder on the way that links out of the directory is refused like a file would be.
        std::fs::remove_dir_all(dir.join("labels")).unwrap();
        let outside_tmp = tempfile::tempdir().unwrap();
        let outside = outside_tmp.path().to_path_buf();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("budget.txt"), "label: ailleurs").unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("labels")).unwrap();
        let e = Renderer::new(&c).err().unwrap().to_string();
        assert!(e.contains("symbolic link out of mail.templates_dir"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_dir_all(&outside).unwrap();
    }

    #[test]
    fn an_undefined_variable_is_an_error() {
        let dir_tmp = tempfile::tempdir().unwrap();
        let dir = dir_tmp.path().to_path_buf();
        std::fs::create_dir_all(&dir).unwrap();
        let mut c = cfg();
        c.templates_dir = Some(dir.clone());
        let p = payload(
            "core_alerteprojet",
            "BUDGET_DEPASSE",
            Some("WARNING"),
            serde_json::json!({}),
        );
        for text in [
            "Alerte {{ a.type_lable }}",
            "{{ site }}",
            "{% if a.nope %}x{% endif %}",
        ] {
            std::fs::write(dir.join("alert.subject.txt"), text).unwrap();
            let r = Renderer::new(&c).unwrap();
            let e = format!("{:#}", r.alert(&p, now()).expect_err(text));
            assert!(e.contains("undefined"), "{text}: {e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
