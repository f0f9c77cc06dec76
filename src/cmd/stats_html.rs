//! The `sigov stats --html` page: one file, inline CSS and SVG, no script, no font or image
//! fetched; every name from the database escaped.

use crate::checks::registry::CheckName;
use crate::ops::stats::{By, Stats};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// A check's color (the same on every chart).
fn color(check: &str) -> &'static str {
    if check.is_empty() {
        return "#8c959f";
    }
    // Each check's own (neutral hues: red is kept for failure, failed runs and dead mail).
    match check.parse::<CheckName>() {
        Ok(c) => c.check().colour(),
        Err(_) => "#57606a",
    }
}

fn label(check: &str) -> &str {
    if check.is_empty() {
        "not from sigov"
    } else {
        check
    }
}

/// The days shown: every day from the first with data (or the window's start, when less than a
/// year back) to the window's end.
fn days(s: &Stats) -> Vec<String> {
    let parse =
        |d: &str| chrono::NaiveDate::parse_from_str(d.get(..10).unwrap_or(""), "%Y-%m-%d").ok();
    let end = parse(&s.until);
    let first_data = s.per_day.keys().next().and_then(|d| parse(d));
    let start = match (parse(&s.since), first_data, end) {
        (Some(a), _, Some(e)) if (e - a).num_days() <= 366 => Some(a),
        (_, Some(f), _) => Some(f),
        _ => None,
    };
    match (start, end) {
        (Some(a), Some(e)) if a <= e && (e - a).num_days() <= 3660 => a
            .iter_days()
            .take_while(|d| *d <= e)
            .map(|d| d.to_string())
            .collect(),
        _ => s.per_day.keys().cloned().collect(),
    }
}

/// Round steps for an axis from 0 to at least `max`: 1, 2, 2.5 or 5 times a power of ten,
/// four or five of them. Returns (step, top).
pub fn nice_ticks(max: f64) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|st| *st >= raw)
        .unwrap_or(10.0 * mag);
    (step, (max / step).ceil().max(1.0) * step)
}

/// `n` with French thousands separators (a narrow no-break space): 14 871.
pub fn fr(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i) % 3 == 0 {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// One chart, drawn twice: `wide` (900 units) for screens, and a narrow one (420 units, fewer
/// labels) that phones show instead, so both axes and every label stay readable.
const WIDTHS: [(f64, &str); 2] = [(900.0, "wide"), (420.0, "narrow")];

/// The checks of the alerts-per-day chart, in the registry's order (rows of no check last).
fn checks_per_day(s: &Stats) -> Vec<String> {
    let mut c: Vec<String> = s.per_day.values().flat_map(|m| m.keys().cloned()).collect();
    c.sort_by_key(|name| {
        let at = CheckName::ALL.iter().position(|k| k.as_str() == name);
        (at.unwrap_or(CheckName::ALL.len()), name.clone())
    });
    c.dedup();
    c
}

fn alerts_per_day(s: &Stats, o: &mut String) {
    for (w, class) in WIDTHS {
        alerts_per_day_at(s, o, w, class);
    }
    let checks = checks_per_day(s);
    legend(o, checks.iter().map(String::as_str));
}

fn alerts_per_day_at(s: &Stats, o: &mut String, w: f64, class: &str) {
    let days = days(s);
    let checks = checks_per_day(s);
    let max = s
        .per_day
        .values()
        .map(|m| m.values().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let (step_v, top_v) = nice_ticks(max as f64);
    let (step_v, top_v) = if step_v < 1.0 {
        (1.0, top_v.max(1.0))
    } else {
        (step_v, top_v)
    };
    let (h, left, bottom, top) = (260.0, 50.0, 28.0, 10.0);
    let n = days.len().max(1) as f64;
    let step = (w - left - 10.0) / n;
    let bw = (step * 0.8).max(1.0);
    let _ = write!(
        o,
        r#"<svg viewBox="0 0 {w} {h}" role="img" aria-label="Alerts per day by check" class="chart {class}">"#
    );
    let plot_h = h - bottom - top;
    let mut v = 0.0;
    while v <= top_v + 1e-9 {
        let y = top + plot_h - plot_h * v / top_v;
        let _ = write!(
            o,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d0d7de" stroke-width="1"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{}</text>"##,
            w - 10.0,
            left - 6.0,
            y + 4.0,
            fr(v.round() as u64)
        );
        v += step_v;
    }
    let empty = BTreeMap::new();
    let labels = ((w / 90.0) as usize).max(2);
    for (i, d) in days.iter().enumerate() {
        let x = left + step * i as f64 + (step - bw) / 2.0;
        let mut y = top + plot_h;
        let per = s.per_day.get(d).unwrap_or(&empty);
        for c in &checks {
            let v = per.get(c).copied().unwrap_or(0);
            if v == 0 {
                continue;
            }
            let bh = plot_h * v as f64 / top_v;
            y -= bh;
            let _ = write!(
                o,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="{}"><title>{} {}: {}</title></rect>"#,
                color(c),
                esc(d),
                esc(label(c)),
                fr(v)
            );
        }
        let every = days.len().div_ceil(labels).max(1);
        if i % every == 0 {
            let _ = write!(
                o,
                r#"<text x="{:.1}" y="{}" text-anchor="middle" class="tick">{}</text>"#,
                (x + bw / 2.0).clamp(left + 14.0, w - 24.0),
                h - 8.0,
                esc(d.get(5..).unwrap_or(d))
            );
        }
    }
    o.push_str("</svg>");
}

fn legend<'a>(o: &mut String, checks: impl Iterator<Item = &'a str>) {
    o.push_str(r#"<p class="legend">"#);
    for c in checks {
        let _ = write!(
            o,
            r#"<span><i style="background:{}"></i>{}</span> "#,
            color(c),
            esc(label(c))
        );
    }
    o.push_str("</p>");
}

fn mail_outcomes(s: &Stats, o: &mut String) {
    let m = &s.mail;
    let rows = [
        ("sent", m.sent, "#1a7f37"),
        ("queued", m.pending, "#bf8700"),
        ("failed, retrying", m.failed, "#d1242f"),
        ("dead", m.dead, "#82071e"),
        ("unconfirmed (may have arrived)", m.unconfirmed, "#8250df"),
        (
            "no mail (no address, invalid, inactive, purged)",
            m.none,
            "#8c959f",
        ),
        ("not from sigov", m.not_from_sigov, "#d0d7de"),
    ];
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
    o.push_str(r#"<div class="hbar" role="img" aria-label="Mail outcomes">"#);
    for (name, n, fill) in rows {
        let pct = 85.0 * n as f64 / max as f64;
        let _ = write!(
            o,
            r#"<span>{}</span><span class="v"><i style="width:{pct:.1}%;background:{fill}"></i>{n}</span>"#,
            esc(name)
        );
    }
    o.push_str("</div>");
}

fn run_durations(s: &Stats, o: &mut String) {
    for (w, class) in WIDTHS {
        run_durations_at(s, o, w, class);
    }
    legend(o, s.runs.iter().map(|r| r.check.as_str()));
}

fn run_durations_at(s: &Stats, o: &mut String, w: f64, class: &str) {
    let parse = |t: &str| crate::clock::parse_stored_datetime(t);
    let (Some(t0), Some(t1)) = (parse(&s.since), parse(&s.until)) else {
        return;
    };
    // The axis spans the page's window (an hour at least).
    let t0 = t0.min(t1 - chrono::Duration::hours(1));
    let span = ((t1 - t0).num_seconds().max(1)) as f64;
    let max = s
        .runs
        .iter()
        .filter_map(|r| r.duration.max)
        .fold(0.0f64, f64::max)
        .max(0.001);
    let (step_v, top_v) = nice_ticks(max);
    let (h, left, bottom, top) = (260.0, 64.0, 28.0, 10.0);
    let plot_w = w - left - 10.0;
    let plot_h = h - bottom - top;
    let _ = write!(
        o,
        r#"<svg viewBox="0 0 {w} {h}" role="img" aria-label="Run durations over time" class="chart {class}">"#
    );
    let mut v = 0.0;
    while v <= top_v + step_v * 1e-6 {
        let y = top + plot_h - plot_h * v / top_v;
        let _ = write!(
            o,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d0d7de" stroke-width="1"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{}</text>"##,
            w - 10.0,
            left - 6.0,
            y + 4.0,
            esc(&secs(Some(v)))
        );
        v += step_v;
    }
    let fmt = if w < 600.0 { "%d/%m" } else { "%d/%m/%Y %H:%M" };
    for (t, anchor) in [(t0, "start"), (t1, "end")] {
        let x = left + plot_w * ((t - t0).num_seconds() as f64 / span);
        let _ = write!(
            o,
            r#"<text x="{x:.1}" y="{}" text-anchor="{anchor}" class="tick">{}</text>"#,
            h - 8.0,
            t.format(fmt)
        );
    }
    for r in &s.runs {
        let pts: Vec<(f64, f64, &chrono::NaiveDateTime, f64)> = r
            .points
            .iter()
            .map(|(t, d)| {
                let x = left + plot_w * (((*t - t0).num_seconds().max(0)) as f64 / span).min(1.0);
                let y = top + plot_h - plot_h * (d / top_v);
                (x, y, t, *d)
            })
            .collect();
        if pts.len() > 1 {
            let path: Vec<String> = pts
                .iter()
                .map(|p| format!("{:.1},{:.1}", p.0, p.1))
                .collect();
            let _ = write!(
                o,
                r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="1.5" opacity="0.6"/>"#,
                path.join(" "),
                color(&r.check)
            );
        }
        for (x, y, t, d) in &pts {
            let _ = write!(
                o,
                r#"<circle cx="{x:.1}" cy="{y:.1}" r="3" fill="{}"><title>{} {}: {}</title></circle>"#,
                color(&r.check),
                esc(&r.check),
                t.format("%Y-%m-%d %H:%M:%S"),
                esc(&secs(Some(*d)))
            );
        }
    }
    o.push_str("</svg>");
}

/// What the page leads with: where alerting stands now.
pub struct Now {
    pub health: crate::ops::health::Health,
    /// Mutes in force, and people with all mail off (`sigov prefs`).
    pub mutes: usize,
    pub mail_off: usize,
    /// Times are shown in the business time zone, named.
    pub tz: chrono_tz::Tz,
}

/// A stored UTC time in the business time zone, minute precision.
fn local(t: Option<&str>, tz: chrono_tz::Tz) -> String {
    t.and_then(crate::clock::parse_stored_datetime)
        .map(|u| {
            u.and_utc()
                .with_timezone(&tz)
                .format("%d/%m %H:%M")
                .to_string()
        })
        .unwrap_or_else(|| "—".to_owned())
}

/// The first block: each check's state, last success, next due run and last failure; dead,
/// unconfirmed and oldest pending mail; silences.
fn now_block(n: &Now, o: &mut String) {
    use crate::ops::health::{human_age, Level};
    let h = &n.health;
    let class = |l: Level| match l {
        Level::Ok => "ok",
        Level::Warning => "warning",
        _ => "critical",
    };
    let _ = write!(
        o,
        r#"<section class="now"><h2>Now</h2><p><b class="{}">{}</b> — {}</p>"#,
        class(h.status),
        h.status.word(),
        esc(&h.summary)
    );
    if !h.checks.is_empty() {
        let _ = write!(
            o,
            r#"<div class="scroll"><table><tr><th>check</th><th>state</th><th>last success</th><th>next due</th><th>last failure</th></tr>"#
        );
        for c in &h.checks {
            let next = match (&c.next_due, c.late_secs) {
                (Some(t), Some(0)) => local(Some(t), n.tz),
                (Some(t), Some(l)) => format!("{}, {} late", local(Some(t), n.tz), human_age(l)),
                _ => "—".to_owned(),
            };
            let failure = c
                .last_run
                .as_ref()
                .filter(|r| r.status == crate::states::RunStatus::Failed)
                .map(|r| {
                    format!(
                        r#"<span class="failed">run #{}: {}</span>"#,
                        r.id,
                        esc(r.error.as_deref().unwrap_or("no error recorded"))
                    )
                })
                .unwrap_or_else(|| r#"<span class="muted">—</span>"#.to_owned());
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td class="state {}">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(c.check),
                class(c.status),
                c.status.word(),
                esc(&local(c.last_success.as_deref(), n.tz)),
                esc(&next),
                failure
            );
        }
        o.push_str("</table></div>");
    }
    if let Some(ob) = &h.outbox {
        let oldest = ob
            .oldest_pending_age_secs
            .map(human_age)
            .unwrap_or_else(|| "—".to_owned());
        let _ = write!(
            o,
            r#"<div class="figures"><div><b class="{}">{}</b>dead mail</div><div><b class="{}">{}</b>unconfirmed</div><div><b>{}</b>pending</div><div><b>{}</b>oldest pending</div><div><b>{}</b>silences in force</div><div><b>{}</b>people with mail off</div></div>"#,
            if ob.dead > 0 { "critical" } else { "" },
            fr(ob.dead.max(0) as u64),
            if ob.unconfirmed > 0 { "warning" } else { "" },
            fr(ob.unconfirmed.max(0) as u64),
            fr((ob.pending + ob.failed).max(0) as u64),
            esc(&oldest),
            fr(n.mutes as u64),
            fr(n.mail_off as u64)
        );
        if !ob.channels.is_empty() {
            o.push_str(
                r#"<div class="scroll"><table><tr><th>channel</th><th>pending</th><th>dead</th><th>unconfirmed</th><th>sent</th><th>last delivery</th></tr>"#,
            );
            for (name, c) in &ob.channels {
                let _ = write!(
                    o,
                    r#"<tr><td>{}</td><td>{}</td><td class="{}">{}</td><td class="{}">{}</td><td>{}</td><td>{}</td></tr>"#,
                    esc(name),
                    fr((c.pending + c.failed).max(0) as u64),
                    if c.dead > 0 { "state critical" } else { "" },
                    fr(c.dead.max(0) as u64),
                    if c.unconfirmed > 0 {
                        "state warning"
                    } else {
                        ""
                    },
                    fr(c.unconfirmed.max(0) as u64),
                    fr(c.sent.max(0) as u64),
                    esc(&local(c.last_sent.as_deref(), n.tz))
                );
            }
            o.push_str("</table></div>");
        }
    }
    let _ = write!(
        o,
        r#"<p class="muted">Times in {} ({}).</p></section>"#,
        esc(n.tz.name()),
        esc(&chrono::Utc::now()
            .with_timezone(&n.tz)
            .format("%Z")
            .to_string())
    );
}

/// The whole page.
pub fn page(s: &Stats, now: &Now) -> String {
    let mut o = String::with_capacity(64 * 1024);
    let since = crate::clock::to_seconds(&s.since);
    let until = crate::clock::to_seconds(&s.until);
    let _ = write!(
        o,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sigov statistics, {since} to {until} UTC</title>
<style>
body {{ font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; margin: 0; background: #f6f8fa; }}
main {{ max-width: 1000px; margin: 0 auto; padding: 16px; }}
section {{ background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 12px 16px; margin: 16px 0; }}
h1 {{ font-size: 1.4em; margin: 8px 0; }} h2 {{ font-size: 1.1em; margin: 4px 0 8px; }}
.chart {{ width: 100%; height: auto; display: block; }} .chart.narrow {{ display: none; }}
.now td.state {{ font-weight: 600; }} .ok {{ color: #1a7f37; }} .warning {{ color: #9a6700; }} .critical, .failed {{ color: #cf222e; }}
.muted {{ color: #57606a; }} .now .figures {{ margin-top: 12px; }} .chart.narrow .tick {{ font-size: 14px; }}
.hbar {{ display: grid; grid-template-columns: minmax(80px, 38%) 1fr; gap: 6px 10px; align-items: center; }}
.hbar span.v {{ display: flex; align-items: center; gap: 6px; font-variant-numeric: tabular-nums; }}
.hbar span.v i, td.bar i {{ display: inline-block; flex: 0 0 auto; height: 14px; border-radius: 2px; }}
td.bar {{ width: 30%; }} td.bar i {{ background: #1f6feb; }}
th.n {{ text-align: right; }}
.tick {{ font-size: 11px; fill: #57606a; }} .lab {{ font-size: 13px; fill: #1f2328; }}
.legend span {{ margin-right: 14px; white-space: nowrap; }} .legend i {{ display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 12px; }} .figures div {{ flex: 1 1 110px; min-width: 0; border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; }}
.figures b {{ display: block; font-size: 1.5em; white-space: nowrap; }}
.scroll {{ overflow-x: auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 14px; }} th, td {{ padding: 4px 8px; border-bottom: 1px solid #eaeef2; text-align: left; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
@media (max-width: 600px) {{ .chart.wide {{ display: none; }} .chart.narrow {{ display: block; }} .figures b {{ font-size: 1.25em; }} main {{ padding: 8px; }} section {{ padding: 10px 8px; }} th, td {{ padding: 4px 3px; font-size: 12px; }} .bar {{ display: none; }} }}
</style></head><body><main>
<h1>sigov statistics</h1>
<p>From {since} to {until} UTC. Alerts are the rows of core_alerteprojet and core_notificationetape created in the window, whoever wrote them; their mail is sigov's outbox.</p>
"#
    );
    now_block(now, &mut o);
    let _ = write!(
        o,
        r#"<section><h2>Over the window</h2><div class="figures">
<div><b>{}</b>alerts</div><div><b>{}</b>mails sent</div><div><b>{}</b>queued</div><div><b>{}</b>dead</div><div><b>{}</b>delivery, median</div><div><b>{}</b>delivery, 95th</div>
</div></section>
"#,
        fr(s.alerts),
        fr(s.mail.sent),
        fr(s.mail.pending + s.mail.failed),
        fr(s.mail.dead),
        esc(&secs(s.delivery.median)),
        esc(&secs(s.delivery.p95)),
    );
    o.push_str(r#"<section><h2>Alerts per day, by check</h2>"#);
    alerts_per_day(s, &mut o);
    o.push_str("</section><section><h2>What became of their mail</h2>");
    mail_outcomes(s, &mut o);
    o.push_str("</section><section><h2>Run durations over time</h2>");
    if s.runs.is_empty() {
        o.push_str("<p>No run in the window.</p>");
    } else {
        run_durations(s, &mut o);
        o.push_str(r#"<div class="scroll"><table><tr><th>check</th><th class="n">runs</th><th class="n">failed</th><th class="n">interrupted</th><th class="n">median</th><th class="n">95th</th><th class="n">max</th></tr>"#);
        for r in &s.runs {
            let _ = write!(
                o,
                r#"<tr><td>{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
                esc(&r.check),
                r.runs,
                r.failed,
                r.interrupted,
                esc(&secs(r.duration.median)),
                esc(&secs(r.duration.p95)),
                esc(&secs(r.duration.max))
            );
        }
        o.push_str("</table></div>");
    }
    let by = match s.by {
        By::Check => "check",
        By::Type => "type",
        By::Project => "project",
        By::Recipient => "recipient",
        By::Day => "day",
    };
    let _ = write!(
        o,
        r#"</section><section><h2>Alerts by {by}</h2><div class="scroll"><table><tr><th>{by}</th><th class="n">alerts</th><th class="bar"></th><th class="n">sent</th><th class="n">queued</th><th class="n">dead</th><th class="n">no mail</th></tr>"#
    );
    let max = s.groups.iter().map(|g| g.alerts).max().unwrap_or(0);
    for g in &s.groups {
        let _ = write!(
            o,
            r#"<tr><td>{}</td><td class="n">{}</td><td class="bar"><i style="width:{:.1}%"></i></td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td><td class="n">{}</td></tr>"#,
            esc(&g.key),
            fr(g.alerts),
            100.0 * g.alerts as f64 / max.max(1) as f64,
            fr(g.mail.sent),
            fr(g.mail.pending + g.mail.failed),
            fr(g.mail.dead),
            fr(g.mail.none)
        );
    }
    let _ = write!(
        o,
        "</table></div></section>\n<p>Made by sigov {} at {until} UTC.</p>\n</main></body></html>\n",
        env!("CARGO_PKG_VERSION")
    );
    o
}

/// A duration in seconds, in its unit (ms, s, min).
pub fn secs(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(s) if s < 1.0 => format!("{:.0} ms", s * 1000.0),
        Some(s) if s < 120.0 => format!("{s:.2} s"),
        Some(s) => format!("{:.1} min", s / 60.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_numbers_french() {
        assert_eq!(nice_ticks(831.0), (250.0, 1000.0));
        assert_eq!(nice_ticks(14.0), (5.0, 15.0));
        assert_eq!(nice_ticks(4.0), (1.0, 4.0));
        assert_eq!(nice_ticks(0.37), (0.1, 0.4));
        assert_eq!(fr(14871), "14\u{202f}871");
        assert_eq!(fr(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(fr(999), "999");
    }

    #[test]
    fn escapes_everything_it_is_given() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }
}
