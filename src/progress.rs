//! Progress on a terminal: bars for the candidates of a check, a counter for mail delivery.
//! Drawn only when stderr is a terminal and the output is human text; hidden otherwise.

/// Progress bars are drawn only when stderr is a terminal and the output is human text (set
/// once by `run`); cron, journald, pipes and `--format json` never see one.
static PROGRESS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn enable(on: bool) {
    PROGRESS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// A bar of `len` steps labelled `label`, or a hidden one when progress is off.
pub fn bar(len: u64, label: &str) -> indicatif::ProgressBar {
    if !PROGRESS.load(std::sync::atomic::Ordering::Relaxed) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{prefix:>10} [{bar:30}] {pos}/{len} {msg}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix(label.to_owned());
    bar
}

/// A counter without a known end (mail delivery), or a hidden one when progress is off.
pub fn counter(label: &str) -> indicatif::ProgressBar {
    if !PROGRESS.load(std::sync::atomic::Ordering::Relaxed) {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    if let Ok(style) = indicatif::ProgressStyle::with_template("{prefix:>10} {spinner} {pos} {msg}")
    {
        bar.set_style(style.tick_chars("-\\|/ "));
    }
    bar.set_prefix(label.to_owned());
    bar
}
