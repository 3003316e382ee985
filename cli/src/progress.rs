//! Progress on stderr for the long-running tools (`import`, `mirror`): a
//! bar when stderr is a terminal (indicatif), else plain lines that a log
//! file keeps readable.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    tool: &'static str,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Progress for `tool` ("zkrs import"), its lines prefixed with it.
    pub fn new(tool: &'static str) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { tool, bar }
    }

    /// A step done or a fact worth keeping: a line (above the bar).
    pub fn note(&self, line: &str) {
        let line = format!("{}: {line}", self.tool);
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Work under way whose end is not known: a spinner with `what`.
    pub fn working(&self, what: &str) {
        if let Some(bar) = &self.bar {
            bar.set_style(spinner_style());
            bar.set_message(what.to_string());
        }
    }

    /// `done` of `total` items of `what`: the bar. (No line: the notes
    /// say where a plain log is.)
    pub fn advance(&self, done: u64, total: u64, what: &str) {
        if let Some(bar) = &self.bar {
            if bar.length() != Some(total) {
                bar.set_style(bar_style());
                bar.set_length(total);
            }
            bar.set_position(done.min(total));
            bar.set_message(what.to_string());
        }
    }

    /// Takes the bar away (notes stay).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg} [{elapsed}] {wide_bar} {pos}/{len} ({eta} left)")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}
