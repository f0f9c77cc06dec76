//! Every mail kind as a person reads it: each sample (`sigov mail preview --output DIR`: the
//! alert kinds, both digests, the test mail) laid out by headless Chromium, and the contrast of
//! every text measured (WCAG 2.x relative luminance) against its background colour and against
//! every stop of any gradient behind it — not a CSS grep. Every gradient must have a plain
//! background colour under it too (what clients that draw no gradient show). Screenshots at
//! 1280 and 390 px are kept with SIGOV_TEST_KEEP_SCREENSHOTS=1.

use crate::common::*;

/// The test's probe, appended to a copy of the mail (the mail itself has no script): for every
/// element with text of its own, the lowest contrast of its colour against each background it
/// may be drawn on.
const PROBE: &str = r#"<script>
function rgba(s) {
  const m = s.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(',').map(x => parseFloat(x));
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
}
function stops(img) {
  return (img.match(/rgba?\([^)]+\)/g) || []).map(rgba);
}
function over(top, under) {
  const a = top.a;
  return { r: top.r * a + under.r * (1 - a), g: top.g * a + under.g * (1 - a),
           b: top.b * a + under.b * (1 - a), a: 1 };
}
function lum(c) {
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function contrast(x, y) {
  const a = lum(x), b = lum(y);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}
// The backgrounds an element's text may be drawn on: the first opaque colour up the tree
// (translucent ones composited over it), and each stop of a gradient met on the way.
function backgrounds(el) {
  const layers = [];
  let base = null, gradient = [];
  for (let e = el; e; e = e.parentElement) {
    const cs = getComputedStyle(e);
    if (cs.backgroundImage.includes('gradient') && gradient.length === 0) gradient = stops(cs.backgroundImage);
    const c = rgba(cs.backgroundColor);
    if (c && c.a > 0) {
      if (c.a >= 1) { base = c; break; }
      layers.push(c);
    }
  }
  if (!base) base = { r: 255, g: 255, b: 255, a: 1 };
  let flat = base;
  for (let i = layers.length - 1; i >= 0; i--) flat = over(layers[i], flat);
  return [flat].concat(gradient.map(s => s.a < 1 ? over(s, flat) : s));
}
const result = { texts: 0, worst: 99, failures: [], gradients: 0, without_fallback: [] };
for (const el of document.body.querySelectorAll('*')) {
  const cs = getComputedStyle(el);
  if (cs.backgroundImage.includes('gradient')) {
    result.gradients++;
    const c = rgba(cs.backgroundColor);
    if (!c || c.a === 0) result.without_fallback.push(el.className || el.tagName);
  }
  const own = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim() !== '');
  if (own.length === 0 || cs.display === 'none' || cs.visibility === 'hidden') continue;
  const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
  const large = size >= 24 || (bold && size >= 18.66);
  const need = large ? 3 : 4.5;
  let color = rgba(cs.color);
  for (const bg of backgrounds(el)) {
    const c = color.a < 1 ? over(color, bg) : color;
    const k = contrast(c, bg);
    result.texts++;
    result.worst = Math.min(result.worst, k);
    if (k < need) result.failures.push({ text: own[0].textContent.trim().slice(0, 50),
      class: el.className, color: cs.color, background: `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)})`,
      contrast: Math.round(k * 100) / 100, need });
  }
}
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = JSON.stringify(result);
document.body.appendChild(pre);
</script>"#;

#[test]
fn every_mail_text_meets_wcag_aa_on_every_background() {
    let dir_tmp = crate::common::tempdir("mail-look");
    let dir = dir_tmp.path().to_path_buf();
    let r = Sigov::new()
        .env("SIGOV_NOW", "2026-11-22T10:00:00Z")
        .env("SIGOV_BASE_URL", "https://si-gouvernance.test")
        .args(["mail", "preview", "--output"])
        .arg_path(&dir)
        .run();
    assert_eq!(r.code, 0, "{r:#?}");
    let mut htmls: Vec<_> = std::fs::read_dir(&dir)
        .expect("samples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    htmls.sort();
    let names: Vec<String> = htmls
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    for kind in [
        "sample-digest",
        "sample-daily",
        "sample-test",
        "sample-retard-etape",
    ] {
        assert!(names.iter().any(|n| n == kind), "{kind} in {names:?}");
    }
    let keep = std::env::var_os("SIGOV_TEST_KEEP_SCREENSHOTS").is_some();
    let mut report = Vec::new();
    for html in &htmls {
        let name = html
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .into_owned();
        let page = std::fs::read_to_string(html).expect("html");
        let probed = dir.join(format!("{name}.probed.html"));
        std::fs::write(&probed, page.replace("</body>", &format!("{PROBE}</body>")))
            .expect("probe page");
        let v = chromium_probe(&probed, "--window-size=800,2000");
        assert!(v["texts"].as_u64() > Some(10), "{name}: {v}");
        assert!(v["gradients"].as_u64() >= Some(1), "{name}: {v}");
        assert_eq!(v["without_fallback"], serde_json::json!([]), "{name}: {v}");
        assert_eq!(
            v["failures"],
            serde_json::json!([]),
            "{name}: texts below WCAG AA: {v:#}"
        );
        report.push(format!(
            "{name}: {} texts, worst {:.2}:1",
            v["texts"],
            v["worst"].as_f64().unwrap_or(0.0)
        ));
        if keep {
            for width in [1280u32, 390] {
                let shot = dir.join(format!("{name}-{width}.png"));
                chromium(
                    &[
                        format!("--window-size={},2400", width.max(500)),
                        format!("--screenshot={}", shot.display()),
                    ],
                    html,
                );
            }
        }
    }
    eprintln!("mail contrast: {report:#?}");
    if !keep {}
}
