//! Splitting a zkCli line into words and a command's words into options
//! and arguments, with the quirks zkCli users rely on.

use std::collections::HashMap;

/// zkCli's tokenizer: words split on whitespace; a word that starts with a
/// quote runs to the matching quote and loses the quotes.
pub fn split_line(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
        let (word, tail) = match quote.and_then(|q| rest[1..].find(q).map(|i| (q, i))) {
            Some((_, i)) => (&rest[1..i + 1], &rest[i + 2..]),
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        words.push(word.to_string());
        rest = tail.trim_start();
    }
    words
}

/// A command's words after option parsing: `args[0]` is the command name,
/// as in zkCli.
#[derive(Debug, Default)]
pub struct Parsed {
    pub args: Vec<String>,
    opts: HashMap<String, String>,
}

impl Parsed {
    pub fn has(&self, opt: &str) -> bool {
        self.opts.contains_key(opt)
    }

    pub fn value(&self, opt: &str) -> Option<&str> {
        self.opts.get(opt).map(String::as_str)
    }

    /// The argument at `i`, if given.
    pub fn arg(&self, i: usize) -> Option<&str> {
        self.args.get(i).map(String::as_str)
    }
}

/// commons-cli's PosixParser as zkCli uses it: options may come anywhere;
/// `flags` take no value, `valued` take the next word. An unknown option
/// fails with commons-cli's own message.
pub fn parse_opts(words: &[String], flags: &[&str], valued: &[&str]) -> Result<Parsed, String> {
    let mut parsed = Parsed::default();
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let Some(name) = w.strip_prefix('-').filter(|n| !n.is_empty()) else {
            parsed.args.push(w.clone());
            continue;
        };
        if flags.contains(&name) {
            parsed.opts.insert(name.to_string(), String::new());
        } else if valued.contains(&name) {
            let v = it.next().ok_or_else(|| {
                format!("org.apache.commons.cli.MissingArgumentException: Missing argument for option: {name}")
            })?;
            parsed.opts.insert(name.to_string(), v.clone());
        } else {
            return Err(format!(
                "org.apache.commons.cli.UnrecognizedOptionException: Unrecognized option: {w}"
            ));
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_group_words() {
        assert_eq!(
            split_line("  set /a \"hello world\" 'x y'  "),
            vec!["set", "/a", "hello world", "x y"]
        );
        assert_eq!(split_line("create /a"), vec!["create", "/a"]);
    }

    #[test]
    fn options_anywhere() {
        let w: Vec<String> = ["removewatches", "/w", "-d", "-l"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let p = parse_opts(&w, &["c", "d", "a", "l"], &[]).unwrap();
        assert_eq!(p.args, vec!["removewatches", "/w"]);
        assert!(p.has("d") && p.has("l") && !p.has("c"));
        assert!(parse_opts(&w, &[], &[]).is_err());
    }
}
