//! `zkrs shell`: a drop-in for Apache ZooKeeper's zkCli. Same invocation
//! (`-server HOSTS [-timeout ms] [-r] [cmd args...]`), same commands and
//! options, same output text, so scripts written against zkCli keep
//! working. It talks to the ensemble only through `zkrs::client`; anything
//! zkCli does that the client cannot (reconfig) is reported, not faked.
//!
//! - `parse`: zkCli's line tokenizer and option parsing.
//! - `format`: Stat blocks, dates, ACLs, error and event texts.
//! - `commands`: the znode commands. `quota`: setquota/listquota/delquota.
//! - `interactive`: the terminal prompt (history, completion).

mod commands;
mod format;
mod interactive;
mod parse;
mod quota;

use std::io::{BufRead, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use zkrs::client::{Client, ClientOptions, SessionState, Watcher};

/// zkCli's defaults (ZooKeeperMain.MyCommandOptions).
const DEFAULT_SERVER: &str = "127.0.0.1:2181";
const DEFAULT_TIMEOUT_MS: u64 = 30000;

/// A command's failure: the message zkCli prints on stderr and the exit
/// code zkCli's CliException carries (1, or 127 for an unknown command).
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    pub code: i32,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: 1,
        }
    }
}

pub type CmdResult = Result<(), CliError>;

impl From<String> for CliError {
    fn from(s: String) -> Self {
        CliError::new(s)
    }
}

/// Invocation options, as zkCli reads them.
struct Invocation {
    server: String,
    timeout_ms: u64,
    read_only: bool,
    /// `-client-configuration FILE`: TLS and SASL settings.
    secure: Security,
    command: Vec<String>,
}

/// What a `-client-configuration` file says about TLS and SASL.
#[derive(Default, Clone)]
struct Security {
    tls: Option<zkrs::tls::ClientTls>,
    sasl: Option<zkrs::sasl::SaslClient>,
}

/// zkCli's client configuration file (Java properties): TLS from
/// `zookeeper.client.secure` and `zookeeper.ssl.*`; SASL DIGEST-MD5 from
/// the JAAS file that `java.security.auth.login.config` names (a JVM flag
/// for zkCli, a key of this file here), section
/// `zookeeper.sasl.clientconfig` (default `Client`), unless
/// `zookeeper.sasl.client=false`.
fn read_security(path: &str) -> Result<Security, String> {
    let fail = |why: String| format!("Error loading client configuration {path}: {why}");
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let props: std::collections::BTreeMap<String, String> = zkrs::config::parse_properties(&text)
        .map_err(|e| fail(e.to_string()))?
        .into_iter()
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let sasl_on = props.get("zookeeper.sasl.client").map(String::as_str) != Some("false");
    let sasl = match props.get("java.security.auth.login.config") {
        Some(jaas) if sasl_on => {
            let section = props
                .get("zookeeper.sasl.clientconfig")
                .map_or("Client", String::as_str);
            let client =
                zkrs::sasl::SaslClient::from_jaas_file(std::path::Path::new(jaas), section)
                    .map_err(|e| fail(e.to_string()))?;
            Some(client)
        }
        _ => None,
    };
    Ok(Security {
        tls: zkrs::tls::ClientTls::from_properties(&props).map_err(|e| fail(e.to_string()))?,
        sasl,
    })
}

fn parse_invocation(args: Vec<String>) -> Result<Invocation, String> {
    let mut inv = Invocation {
        server: DEFAULT_SERVER.to_string(),
        timeout_ms: DEFAULT_TIMEOUT_MS,
        read_only: false,
        secure: Security::default(),
        command: Vec::new(),
    };
    let mut it = args.into_iter();
    while let Some(opt) = it.next() {
        let missing = || format!("Error: no argument found for option {opt}");
        match opt.as_str() {
            "-server" => inv.server = it.next().ok_or_else(missing)?,
            "-timeout" => {
                let v = it.next().ok_or_else(missing)?;
                inv.timeout_ms = v.parse().map_err(|_| format!("bad -timeout {v}"))?;
            }
            "-client-configuration" => {
                inv.secure = read_security(&it.next().ok_or_else(missing)?)?;
            }
            "-r" => inv.read_only = true,
            o if o.starts_with('-') => {}
            _ => {
                inv.command.push(opt);
                inv.command.extend(it.by_ref());
            }
        }
    }
    Ok(inv)
}

/// Runs zkCli's invocation; returns the process exit code.
pub fn run(args: Vec<String>) -> i32 {
    let inv = match parse_invocation(args) {
        Ok(inv) => inv,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let mut shell = match Shell::new(&inv) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("zkrs shell: {e}");
            return 1;
        }
    };
    println!("Connecting to {}", inv.server);
    let terminal = std::io::stdin().is_terminal();
    // zkCli connects in the background and greets first; its connected
    // event usually lands just after the greeting.
    if inv.command.is_empty() {
        println!("Welcome to ZooKeeper!");
        let jline = if terminal { "enabled" } else { "disabled" };
        println!("JLine support is {jline}");
    }
    shell.connect(&inv.server);
    if !inv.command.is_empty() {
        shell.process(inv.command);
    } else if terminal {
        interactive::run(&mut shell);
    } else {
        shell.run_piped();
    }
    shell.finish();
    shell.exit_code
}

/// The shell's state across commands: the session, history and settings.
pub struct Shell {
    rt: tokio::runtime::Runtime,
    zk: Option<Client>,
    host: String,
    timeout_ms: u64,
    read_only: bool,
    secure: Security,
    history: Vec<String>,
    print_watches: Arc<AtomicBool>,
    exit_code: i32,
    quit: bool,
    /// The last connect found no server (as opposed to a closed session).
    unreachable: bool,
}

impl Shell {
    fn new(inv: &Invocation) -> std::io::Result<Shell> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        Ok(Shell {
            rt,
            zk: None,
            host: inv.server.clone(),
            timeout_ms: inv.timeout_ms,
            read_only: inv.read_only,
            secure: inv.secure.clone(),
            history: Vec::new(),
            print_watches: Arc::new(AtomicBool::new(true)),
            exit_code: 0,
            quit: false,
            unreachable: false,
        })
    }

    /// zkCli's prompt: `[zk: HOSTS(STATE) N] `.
    pub fn prompt(&self) -> String {
        let state = format::state_name(self.zk.as_ref().map(Client::state));
        format!("[zk: {}({}) {}] ", self.host, state, self.history.len())
    }

    /// The watcher every watching command registers: prints as zkCli's
    /// MyWatcher does, unless `printwatches off`.
    fn watcher(&self) -> Watcher {
        let on = self.print_watches.clone();
        zkrs::client::watcher(move |ev| {
            if on.load(Ordering::Relaxed) {
                print_message(&format!("WATCHER::\n\n{}", format::event_text(&ev)));
            }
        })
    }

    /// Opens a session to `hosts`, closing any previous one.
    fn connect(&mut self, hosts: &str) {
        self.close_session();
        self.host = hosts.to_string();
        self.unreachable = false;
        let opts = ClientOptions {
            session_timeout: Duration::from_millis(self.timeout_ms),
            connect_timeout: Duration::from_millis(self.timeout_ms),
            read_only: self.read_only,
            tls: self.secure.tls.clone(),
            sasl: self.secure.sasl.clone(),
            ..ClientOptions::default()
        };
        match self.rt.block_on(Client::connect(hosts, opts)) {
            Ok(zk) => {
                self.session_event(zk.state());
                self.listen(&zk);
                self.zk = Some(zk);
            }
            Err(e) => {
                eprintln!("Unable to connect to {hosts}: {e}");
                self.unreachable = true;
            }
        }
    }

    /// Session events after the first connect: zkCli's default watcher
    /// prints them. Closed is printed by `close_session` itself so that it
    /// comes before the next command's output.
    fn listen(&self, zk: &Client) {
        let on = self.print_watches.clone();
        zk.add_state_listener(Arc::new(move |s: SessionState| {
            if s != SessionState::Closed && on.load(Ordering::Relaxed) {
                print_session_event(s);
            }
        }));
    }

    fn session_event(&self, s: SessionState) {
        if self.print_watches.load(Ordering::Relaxed) {
            print_session_event(s);
        }
    }

    fn close_session(&mut self) {
        if let Some(zk) = self.zk.take() {
            if !zk.state().is_terminal() {
                let _ = self.rt.block_on(zk.close());
                self.session_event(SessionState::Closed);
            }
        }
    }

    /// The live session, or zkCli's "Not connected".
    fn live(&self) -> Option<Client> {
        self.zk.clone().filter(|zk| !zk.state().is_terminal())
    }

    fn run_piped(&mut self) {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            let Ok(line) = line else { break };
            self.execute_line(&line);
            if self.quit {
                break;
            }
        }
    }

    /// One line typed or piped: recorded in history, then run.
    pub fn execute_line(&mut self, line: &str) {
        if line.is_empty() {
            return;
        }
        let words = parse::split_line(line);
        self.history.push(line.to_string());
        if !words.is_empty() {
            self.process(words);
        }
    }

    /// Runs one command and records its exit code as zkCli does (the last
    /// command's code is the process's).
    fn process(&mut self, words: Vec<String>) {
        self.exit_code = match self.dispatch(words) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("{}", e.message);
                e.code
            }
        };
        let _ = std::io::stdout().flush();
    }

    fn dispatch(&mut self, words: Vec<String>) -> CmdResult {
        let cmd = words[0].as_str();
        match cmd {
            "quit" => {
                self.close_session();
                self.quit = true;
                Ok(())
            }
            "history" => {
                self.print_history();
                Ok(())
            }
            "redo" if words.len() >= 2 => self.redo(&words[1]),
            "printwatches" => {
                self.printwatches(words.get(1));
                Ok(())
            }
            "connect" => {
                let host = words.get(1).cloned().unwrap_or_else(|| self.host.clone());
                self.connect(&host);
                Ok(())
            }
            _ if !commands::is_command(cmd) => {
                commands::usage();
                Err(CliError {
                    message: format!("Command not found: Command not found {cmd}"),
                    code: 127,
                })
            }
            _ if cmd == "redo" => Ok(()),
            _ => self.run_command(&words),
        }
    }

    fn run_command(&mut self, words: &[String]) -> CmdResult {
        let Some(zk) = self.live() else {
            // zkCli keeps retrying an unreachable server and its command
            // fails with ConnectionLoss; after `close` it says this.
            if self.unreachable {
                return Err(CliError::new("KeeperErrorCode = ConnectionLoss"));
            }
            println!("Not connected");
            return Ok(());
        };
        if words[0] == "close" {
            self.close_session();
            return Ok(());
        }
        if words[0] == "version" {
            println!("ZooKeeper CLI version: zkrs {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        let ctx = commands::Ctx {
            zk,
            watcher: self.watcher(),
        };
        self.rt.block_on(commands::run(&ctx, words))
    }

    fn print_history(&self) {
        let n = self.history.len();
        // zkCli shows the last ten and the current line (its own index).
        for i in n.saturating_sub(11)..n {
            println!("{} - {}", i, self.history[i]);
        }
    }

    fn redo(&mut self, index: &str) -> CmdResult {
        let current = self.history.len() - 1;
        let i = parse_java_int(index)
            .filter(|i| *i >= 0 && (*i as usize) < current)
            .ok_or_else(|| CliError::new("Command index out of range"))?;
        let line = self.history[i as usize].clone();
        let words = parse::split_line(&line);
        if words.first().map(String::as_str) == Some("redo") {
            return Err(CliError::new("No redoing redos"));
        }
        // The redo line's history slot shows the command it re-ran.
        self.history[current] = line;
        self.dispatch(words)
    }

    fn printwatches(&self, arg: Option<&String>) {
        match arg {
            None => {
                let on = self.print_watches.load(Ordering::Relaxed);
                println!("printwatches is {}", if on { "on" } else { "off" });
            }
            Some(v) => self.print_watches.store(v == "on", Ordering::Relaxed),
        }
    }

    fn finish(&mut self) {
        self.close_session_quietly();
    }

    /// At exit zkCli's JVM ends without a Closed event on screen.
    fn close_session_quietly(&mut self) {
        if let Some(zk) = self.zk.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(2), zk.close()).await });
        }
    }

    /// Lists a znode's children (sorted; empty on any failure) for path
    /// completion, with the session current at this prompt.
    pub fn lister(&self) -> interactive::Lister {
        let zk = self.live();
        let rt = self.rt.handle().clone();
        Box::new(move |path| {
            let Some(zk) = zk.as_ref() else {
                return Vec::new();
            };
            let limit = Duration::from_secs(2);
            // The timer must be made inside the runtime, hence the block.
            let call = async { tokio::time::timeout(limit, zk.get_children(path, None)).await };
            match rt.block_on(call) {
                Ok(Ok(mut kids)) => {
                    kids.sort();
                    kids
                }
                _ => Vec::new(),
            }
        })
    }
}

/// Integer.decode: decimal, 0x hex, or leading-0 octal.
fn parse_java_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if let Some(h) = body.strip_prefix('#') {
        i64::from_str_radix(h, 16).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse().ok()?
    };
    Some(if neg { -v } else { v })
}

/// ZooKeeperMain.printMessage: a blank line, then the message. One write
/// so an event from the event thread is not split by command output.
fn print_message(msg: &str) {
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "\n{msg}\n");
    let _ = out.flush();
}

fn print_session_event(s: SessionState) {
    print_message(&format!("WATCHER::\n\n{}", format::session_event_text(s)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn invocation_as_zkcli() {
        let inv = parse_invocation(words("-server h:1 -timeout 500 -r ls -s /")).unwrap();
        assert_eq!(inv.server, "h:1");
        assert_eq!(inv.timeout_ms, 500);
        assert!(inv.read_only);
        assert_eq!(inv.command, words("ls -s /"));
        let inv = parse_invocation(Vec::new()).unwrap();
        assert_eq!(inv.server, DEFAULT_SERVER);
        assert!(parse_invocation(words("-server")).is_err());
    }

    #[test]
    fn java_int_decode() {
        assert_eq!(parse_java_int("12"), Some(12));
        assert_eq!(parse_java_int("0x10"), Some(16));
        assert_eq!(parse_java_int("010"), Some(8));
        assert_eq!(parse_java_int("x"), None);
    }
}
