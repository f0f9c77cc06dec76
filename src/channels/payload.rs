//! The body each kind of channel takes for a list of items, in French as the mails are, every
//! piece of user text escaped for the service that reads it; and the size each service accepts,
//! so a long run is split into several messages (each its own delivery).

use super::item::Item;
use super::settings::Kind;
use serde_json::{json, Value};

/// The webhook document's version: a receiver can refuse what it does not know.
pub const WEBHOOK_VERSION: u32 = 1;

/// What a message says besides its items.
pub struct Context<'a> {
    pub site: &'a str,
    pub channel: &'a str,
    /// The delivery's key (the webhook's `Idempotency-Key`, Matrix's transaction id).
    pub delivery: &'a str,
}

/// Largest body a service takes, with room to spare: Slack 40,000 characters of text and 50
/// blocks; Teams (Workflows) 28 KB; a Matrix event 65,536 bytes with its envelope; a webhook
/// whatever sigov chooses.
pub fn max_bytes(kind: Kind) -> usize {
    match kind {
        Kind::Webhook => 256 * 1024,
        Kind::Slack => 36_000,
        Kind::Teams => 26_000,
        Kind::Matrix => 56_000,
    }
}

/// Most items in one message (Slack: one section per project, 50 blocks).
pub fn max_items(kind: Kind) -> usize {
    match kind {
        Kind::Webhook => 500,
        Kind::Slack => 45,
        Kind::Teams => 60,
        Kind::Matrix => 200,
    }
}

/// The body for `items` (at least one).
pub fn body(kind: Kind, items: &[&Item], ctx: &Context<'_>) -> Vec<u8> {
    let v = match kind {
        Kind::Webhook => webhook(items, ctx),
        Kind::Slack => slack(items, ctx),
        Kind::Teams => teams(items, ctx),
        Kind::Matrix => matrix(items, ctx),
    };
    serde_json::to_vec(&v).unwrap_or_default()
}

/// `JJ/MM/AAAA`, as mails write dates; the text as it is when it is not a date.
fn french_date(d: &str) -> String {
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .map(crate::rules::wording::fr_date)
        .unwrap_or_else(|_| d.to_owned())
}

/// The heading of a message: one alert's title, or how many.
fn heading(items: &[&Item], ctx: &Context<'_>) -> String {
    let one = |s: &str| crate::mail::render::one_line_subject(s);
    match items {
        [only] => format!("{} : {}", one(ctx.site), one(&only.title)),
        _ => format!("{} : {} alertes", one(ctx.site), items.len()),
    }
}

/// Items by project, in their order of first appearance.
fn by_project<'a>(items: &[&'a Item]) -> Vec<(&'a Item, Vec<&'a Item>)> {
    let mut out: Vec<(&Item, Vec<&Item>)> = Vec::new();
    for it in items {
        match out.iter_mut().find(|(p, _)| p.project.id == it.project.id) {
            Some((_, l)) => l.push(it),
            None => out.push((it, vec![it])),
        }
    }
    out
}

fn level_word(l: Option<&str>) -> &'static str {
    match l {
        Some("DANGER") => "Critique",
        Some("WARNING") => "Attention",
        Some("INFO") => "Information",
        _ => "Étape",
    }
}

fn recipients(it: &Item) -> String {
    let names: Vec<&str> = it
        .recipients
        .iter()
        .map(|r| r.name.trim())
        .filter(|n| !n.is_empty())
        .collect();
    names.join(", ")
}

fn webhook(items: &[&Item], ctx: &Context<'_>) -> Value {
    json!({
        "version": WEBHOOK_VERSION,
        "source": "sigov",
        "site": ctx.site,
        "channel": ctx.channel,
        "delivery": ctx.delivery,
        "alerts": items,
    })
}

/// Slack's mrkdwn: `&`, `<` and `>` escaped (the only characters Slack asks to escape); a
/// line break in user text would start a new line of the message: a space.
fn slack_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\r', '\n'], " ")
}

/// A link target inside `<…|…>`: no `|` or `>` (a base URL and a project id hold neither).
fn slack_link(url: &str) -> String {
    url.replace('|', "%7C")
        .replace('>', "%3E")
        .replace(' ', "%20")
}

fn slack(items: &[&Item], ctx: &Context<'_>) -> Value {
    let title = heading(items, ctx);
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate(&title, 150), "emoji": true},
    })];
    for (p, list) in by_project(items) {
        let mut text = format!(
            "*<{}|{}>*",
            slack_link(&p.link),
            slack_text(&p.project.name)
        );
        if !p.project.client.is_empty() {
            text.push_str(&format!(" · {}", slack_text(&p.project.client)));
        }
        for it in list {
            let dot = match it.level.as_deref() {
                Some("DANGER") => "🔴",
                Some("WARNING") => "🟠",
                Some("INFO") => "🔵",
                _ => "⚪",
            };
            // Titles of the web application often begin with their own sign (🔴, ⚠️).
            let dot = if it.title.starts_with(char::is_alphanumeric) {
                format!("{dot} ")
            } else {
                String::new()
            };
            let line = format!(
                "\n{dot}*{}* — {} (<{}|ouvrir>)",
                slack_text(&it.title),
                slack_text(&it.message),
                slack_link(&it.link)
            );
            // A section's text is at most 3,000 characters: a long project goes on in another.
            if text.chars().count() + line.chars().count() > 2900 {
                blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": text}}));
                text = String::new();
            }
            text.push_str(&line);
        }
        blocks.push(
            json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, 3000)}}),
        );
    }
    let mut lines = vec![slack_text(&title)];
    for it in items {
        lines.push(format!(
            "• {} — {} : {} <{}|ouvrir>",
            slack_text(&it.project.name),
            slack_text(&it.title),
            slack_text(&it.message),
            slack_link(&it.link)
        ));
    }
    json!({"text": truncate(&lines.join("\n"), 3000), "blocks": blocks})
}

/// Adaptive Cards render a subset of Markdown in TextBlocks (Teams shows a backslash escape
/// as it is, so none is used): user text must not become a link (`[x](url)` is broken apart) nor
/// a list or a new paragraph (line breaks become spaces).
fn card_text(s: &str) -> String {
    s.replace(['\r', '\n'], " ").replace("](", "] (")
}

fn teams(items: &[&Item], ctx: &Context<'_>) -> Value {
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": card_text(&heading(items, ctx)),
        "weight": "Bolder",
        "size": "Medium",
        "wrap": true,
    })];
    for (p, list) in by_project(items) {
        let mut head = format!(
            "[{}]({})",
            card_text(&p.project.name),
            p.link.replace(')', "%29")
        );
        if !p.project.client.is_empty() {
            head.push_str(&format!(" · {}", card_text(&p.project.client)));
        }
        body.push(json!({
            "type": "TextBlock", "text": head, "weight": "Bolder", "wrap": true, "separator": true,
            "spacing": "Medium",
        }));
        for it in list {
            let color = match it.level.as_deref() {
                Some("DANGER") => "Attention",
                Some("WARNING") => "Warning",
                Some("INFO") => "Accent",
                _ => "Default",
            };
            body.push(json!({
                "type": "TextBlock", "text": card_text(&it.title), "weight": "Bolder",
                "color": color, "wrap": true,
            }));
            body.push(json!({
                "type": "TextBlock", "text": card_text(&it.message), "wrap": true, "spacing": "None",
            }));
            let mut facts = vec![
                json!({"title": "Niveau", "value": level_word(it.level.as_deref())}),
                json!({"title": "Date", "value": french_date(&it.business_date)}),
            ];
            if let Some(s) = &it.stage {
                if let Some(o) = s.order {
                    facts.push(json!({"title": "Étape", "value": o.to_string()}));
                }
            }
            if !it.recipients.is_empty() {
                facts.push(json!({"title": "Destinataires", "value": card_text(&recipients(it))}));
            }
            body.push(json!({"type": "FactSet", "facts": facts, "spacing": "Small"}));
        }
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            },
        }],
    })
}

/// HTML text: `&`, `<`, `>`, `"` and `'` escaped.
fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn matrix(items: &[&Item], ctx: &Context<'_>) -> Value {
    let title = heading(items, ctx);
    let mut plain = vec![title.clone()];
    let mut rich = format!("<p><strong>{}</strong></p>", html(&title));
    for (p, list) in by_project(items) {
        plain.push(format!("{} ({})", p.project.name, p.link));
        rich.push_str(&format!(
            "<p><a href=\"{}\">{}</a>{}</p><ul>",
            html(&p.link),
            html(&p.project.name),
            if p.project.client.is_empty() {
                String::new()
            } else {
                format!(" · {}", html(&p.project.client))
            }
        ));
        for it in list {
            plain.push(format!(
                "- [{}] {} — {}",
                level_word(it.level.as_deref()),
                it.title,
                it.message
            ));
            rich.push_str(&format!(
                "<li><strong>{}</strong> — {} <em>({}, {})</em></li>",
                html(&it.title),
                html(&it.message),
                html(level_word(it.level.as_deref())),
                html(&french_date(&it.business_date))
            ));
        }
        rich.push_str("</ul>");
    }
    json!({
        // A notice: clients show it quieter, and bots never answer one.
        "msgtype": "m.notice",
        "body": plain.join("\n"),
        "format": "org.matrix.custom.html",
        "formatted_body": rich,
    })
}

fn truncate(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Splits `items` into runs of consecutive items whose body fits `kind`'s limits; each run is
/// at least one item (an item too large alone goes alone: the service says if it refuses it).
pub fn split<'a>(kind: Kind, items: &[&'a Item], ctx: &Context<'_>) -> Vec<Vec<&'a Item>> {
    let mut out: Vec<Vec<&Item>> = Vec::new();
    let mut cur: Vec<&Item> = Vec::new();
    let mut size = 0usize;
    let base = body(kind, &[], ctx).len();
    for it in items {
        let one = body(kind, &[it], ctx).len().saturating_sub(base) + 64;
        if !cur.is_empty() && (size + one > max_bytes(kind) || cur.len() >= max_items(kind)) {
            out.push(std::mem::take(&mut cur));
            size = base;
        }
        if cur.is_empty() {
            size = base;
        }
        size += one;
        cur.push(it);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    // The estimate is per item; a part built whole above the limit is halved until it fits.
    let mut fitted = Vec::with_capacity(out.len());
    let mut stack: Vec<Vec<&Item>> = out.into_iter().rev().collect();
    while let Some(part) = stack.pop() {
        if part.len() > 1 && body(kind, &part, ctx).len() > max_bytes(kind) {
            let (a, b) = part.split_at(part.len() / 2);
            stack.push(b.to_vec());
            stack.push(a.to_vec());
        } else {
            fitted.push(part);
        }
    }
    fitted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: usize, title: &str) -> Item {
        Item {
            check: "budget".into(),
            alert_type: "BUDGET_DEPASSE".into(),
            level: Some("DANGER".into()),
            title: title.into(),
            message: "Le budget <b>dépasse</b> & plus".into(),
            project: super::super::item::Project {
                id: format!("p{}", n % 3),
                name: format!("Projet *{n}* [x](http://evil)"),
                client: "Client".into(),
                status: "EN_COURS".into(),
            },
            stage: None,
            recipients: vec![super::super::item::Recipient {
                id: "1".into(),
                name: "Ana".into(),
            }],
            business_date: "2026-12-07".into(),
            link: "http://app/projets/p/".into(),
            table: "core_alerteprojet".into(),
            alert_ids: vec![n as i64],
        }
    }

    const CTX: Context<'static> = Context {
        site: "SI-Gouvernance",
        channel: "c",
        delivery: "k",
    };

    #[test]
    fn user_text_is_escaped_for_each_service() {
        let it = item(1, "Titre <script>");
        let s = String::from_utf8(body(Kind::Slack, &[&it], &CTX)).unwrap_or_default();
        // mrkdwn escaped; the header is plain_text, which Slack never parses.
        assert!(
            s.contains("*Titre &lt;script&gt;*") && !s.contains("<b>"),
            "{s}"
        );
        let m: Value =
            serde_json::from_slice(&body(Kind::Matrix, &[&it], &CTX)).unwrap_or_default();
        let f = m["formatted_body"].as_str().unwrap_or_default();
        assert!(
            f.contains("&lt;b&gt;dépasse&lt;/b&gt;") && !f.contains("<b>"),
            "{f}"
        );
        let t: Value = serde_json::from_slice(&body(Kind::Teams, &[&it], &CTX)).unwrap_or_default();
        let text = t.to_string();
        assert!(
            text.contains("[x] (http://evil)") && !text.contains("[x](http"),
            "{text}"
        );
    }

    #[test]
    fn long_runs_split_under_the_limits() {
        let long = "x".repeat(900);
        let items: Vec<Item> = (0..400).map(|n| item(n, &long)).collect();
        let refs: Vec<&Item> = items.iter().collect();
        for kind in [Kind::Slack, Kind::Teams, Kind::Matrix, Kind::Webhook] {
            let parts = split(kind, &refs, &CTX);
            assert_eq!(parts.iter().map(Vec::len).sum::<usize>(), 400, "{kind:?}");
            for p in &parts {
                assert!(body(kind, p, &CTX).len() <= max_bytes(kind), "{kind:?}");
                assert!(p.len() <= max_items(kind));
            }
            if kind != Kind::Webhook {
                assert!(parts.len() > 1, "{kind:?}");
            }
        }
    }
}
