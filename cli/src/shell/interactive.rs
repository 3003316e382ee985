//! The terminal prompt: line editing and history (rustyline), and tab
//! completion as zkCli's JLineZNodeCompleter does it — command names for
//! the first word, znode paths (by listing the parent's children) for a
//! word starting with "/".

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use super::commands::COMMANDS;
use super::Shell;

/// Completion needs the server; the shell lends it a lister per prompt.
pub type Lister = Box<dyn Fn(&str) -> Vec<String>>;

struct ZkHelper {
    list_children: Lister,
}

impl Completer for ZkHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let head = &line[..pos];
        let start = head.rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let token = &head[start..];
        let candidates = if start == 0 {
            complete_command(token)
        } else if token.starts_with('/') {
            self.complete_path(token)
        } else {
            Vec::new()
        };
        Ok((start, candidates))
    }
}

fn pair(text: String) -> Pair {
    Pair {
        display: text.clone(),
        replacement: text,
    }
}

fn complete_command(token: &str) -> Vec<Pair> {
    let mut names: Vec<&str> = COMMANDS.iter().map(|(n, _)| *n).collect();
    names.push("ls2");
    names.retain(|n| n.starts_with(token) && *n != "ls2");
    names.into_iter().map(|n| pair(format!("{n} "))).collect()
}

impl ZkHelper {
    fn complete_path(&self, token: &str) -> Vec<Pair> {
        let cut = token.rfind('/').unwrap_or(0);
        let (dir, prefix) = (&token[..cut], &token[cut + 1..]);
        let parent = if dir.is_empty() { "/" } else { dir };
        (self.list_children)(parent)
            .into_iter()
            .filter(|kid| kid.starts_with(prefix))
            .map(|kid| pair(format!("{dir}/{kid}")))
            .collect()
    }
}

impl Hinter for ZkHelper {
    type Hint = String;
}
impl Highlighter for ZkHelper {}
impl Validator for ZkHelper {}
impl Helper for ZkHelper {}

/// Where the prompt's history is kept between runs: `$ZKRS_SHELL_HISTORY`,
/// else `~/.zkrs_shell_history` (zkCli keeps one through JLine too).
fn history_file() -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os("ZKRS_SHELL_HISTORY") {
        return Some(p.into());
    }
    std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".zkrs_shell_history"))
}

/// The read-eval loop on a terminal; returns at `quit` or end of input.
pub fn run(shell: &mut Shell) {
    let mut rl: Editor<ZkHelper, DefaultHistory> = match Editor::new() {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("zkrs shell: terminal unavailable ({e}); reading lines");
            shell.run_piped();
            return;
        }
    };
    let saved = history_file();
    if let Some(f) = &saved {
        let _ = rl.load_history(f); // none yet on a first run
    }
    loop {
        let prompt = shell.prompt();
        rl.set_helper(Some(ZkHelper {
            list_children: shell.lister(),
        }));
        match rl.readline(&prompt) {
            Ok(line) => {
                let _ = rl.add_history_entry(line.as_str());
                shell.execute_line(line.trim_end());
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(_) => break,
        }
        if shell.quit {
            break;
        }
    }
    if let Some(f) = &saved {
        if let Err(e) = rl.save_history(f) {
            eprintln!(
                "zkrs shell: cannot save the history to {}: {e}",
                f.display()
            );
        }
    }
}
