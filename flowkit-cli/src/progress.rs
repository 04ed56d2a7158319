//! Progress on stderr for long work (indicatif), shown only to a person: when stderr is a
//! terminal (not `TERM=dumb`, not `FLOWKIT_PROGRESS=0`), and only once the work has taken a
//! second (`FLOWKIT_PROGRESS=now`: at once), so short runs and pipes, logs and CI see nothing
//! extra. The library does not know
//! about it: tools feed it from their scan callbacks.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// How long work runs before its progress line appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Whether progress may be drawn: stderr is a terminal, `TERM` is not `dumb` and
/// `FLOWKIT_PROGRESS` is not `0`.
pub fn enabled() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
        && std::env::var_os("FLOWKIT_PROGRESS").is_none_or(|v| v != "0")
}

/// Whether stdout is a pipe or socket: the output feeds another program, usually one printing
/// to the same terminal, so a progress line from this end would mix with its output.
pub fn stdout_is_pipe() -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata("/dev/stdout")
        .map(|m| m.file_type().is_fifo() || m.file_type().is_socket())
        .unwrap_or(false)
}

/// A progress line on stderr: a count of flows, with the rate and the time taken. Cleared when
/// dropped. Does nothing when not [`enabled`].
pub struct Progress {
    bar: Option<ProgressBar>,
    start: Instant,
}

impl Progress {
    /// No progress line at all.
    pub fn off() -> Progress {
        Progress {
            bar: None,
            start: Instant::now(),
        }
    }

    /// Counts flows read by `tool` ([`Progress::add`] the flows of each batch).
    pub fn flows(tool: &str) -> Progress {
        Self::with(
            tool,
            None,
            "{prefix}: {spinner} {human_pos} flows, {rate} flows/s, {elapsed} {msg}",
        )
    }

    fn with(tool: &str, len: Option<u64>, template: &str) -> Progress {
        if !enabled() {
            return Progress::off();
        }
        let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> ").with_key("rate", rate));
        }
        bar.set_prefix(tool.to_string());
        Progress {
            bar: Some(bar),
            start: Instant::now(),
        }
    }

    /// Whether a line may be drawn (stderr is a terminal).
    pub fn is_on(&self) -> bool {
        self.bar.is_some()
    }

    /// Adds `n` to the count.
    pub fn add(&self, n: u64) {
        if let Some(b) = self.bar() {
            b.inc(n);
        }
    }

    /// Sets the text after the count (which input is being read).
    pub fn message(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
        }
    }

    /// Runs `f` (which writes to stderr) with the progress line taken away meanwhile.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// The bar, made visible once the work has taken [`SHOW_AFTER`] (at once with
    /// `FLOWKIT_PROGRESS=now`).
    fn bar(&self) -> Option<&ProgressBar> {
        let b = self.bar.as_ref()?;
        let now = std::env::var_os("FLOWKIT_PROGRESS").is_some_and(|v| v == "now");
        if b.is_hidden() && (now || self.start.elapsed() >= SHOW_AFTER) {
            b.set_draw_target(ProgressDrawTarget::stderr());
        }
        Some(b)
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// The `{rate}` of a progress line: per second, in k or M.
fn rate(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let r = state.per_sec();
    let _ = if r >= 1e6 {
        write!(w, "{:.1}M", r / 1e6)
    } else if r >= 1e3 {
        write!(w, "{:.0}k", r / 1e3)
    } else {
        write!(w, "{r:.0}")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_counts_nothing_and_runs_what_it_suspends() {
        let p = Progress::off();
        p.add(10);
        assert!(!p.is_on());
        assert_eq!(p.suspend(|| 7), 7);
    }

    #[test]
    fn never_on_when_progress_is_turned_off() {
        // Tests run with stderr captured or piped by the harness in CI; either way a bar made
        // while `enabled()` is false must be off.
        let p = Progress::flows("flow-test");
        assert_eq!(p.is_on(), enabled());
    }
}
