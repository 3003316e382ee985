//! The `java.util.Properties` text format, as `Properties.load` reads it,
//! because zoo.cfg is one. Knows nothing of ZooKeeper keys.
//!
//! Rules followed: `\n`, `\r` and `\r\n` end lines; a line whose first
//! non-blank character is `#` or `!` is a comment (and never continues); an
//! odd number of trailing backslashes joins the next line, whose leading
//! blanks are dropped; the key ends at the first unescaped `=`, `:` or blank;
//! blanks around one separator are skipped; `\t \n \r \f \uXXXX` and `\x`
//! escapes are decoded. Properties keeps trailing blanks in values;
//! ZooKeeper trims keys and values afterwards, and so does the caller.

use crate::error::{Error, Result};

/// Blank as Properties means it: space, tab, form feed.
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\x0c')
}

/// Splits on `\r\n`, `\r` or `\n`.
fn natural_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        match rest.find(['\r', '\n']) {
            Some(i) => {
                let line = &rest[..i];
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
                Some(line)
            }
            None => Some(std::mem::take(&mut rest)),
        }
    })
}

/// Joins continued lines and drops comments and blank lines.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    for raw in natural_lines(text) {
        let line = raw.trim_start_matches(is_blank);
        if pending.is_none() && (line.is_empty() || line.starts_with(['#', '!'])) {
            continue;
        }
        let backslashes = line.chars().rev().take_while(|c| *c == '\\').count();
        let continues = backslashes % 2 == 1;
        let body = if continues {
            &line[..line.len() - 1]
        } else {
            line
        };
        let mut joined = pending.take().unwrap_or_default();
        joined.push_str(body);
        if continues {
            pending = Some(joined);
        } else {
            out.push(joined);
        }
    }
    out.extend(pending);
    out
}

/// Decodes Properties escapes (`loadConvert`).
fn unescape(s: &[char]) -> Result<String> {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        i += 1;
        if c != '\\' || i == s.len() {
            out.push(c);
            continue;
        }
        let e = s[i];
        i += 1;
        match e {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'f' => out.push('\x0c'),
            'u' => {
                let hex: String = s.get(i..i + 4).unwrap_or_default().iter().collect();
                let code = u32::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4 && hex.chars().all(|h| h.is_ascii_hexdigit()))
                    .ok_or_else(|| Error::Config("malformed \\uxxxx encoding".to_string()))?;
                // A lone surrogate cannot be a Rust char; Java would keep it.
                out.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
                i += 4;
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Splits one logical line into raw key and value (`Properties.load0`).
fn split_line(line: &str) -> Result<(String, String)> {
    let chars: Vec<char> = line.chars().collect();
    let len = chars.len();
    let mut key_len = 0;
    let mut value_start = len;
    let mut has_sep = false;
    let mut escaped = false;
    while key_len < len {
        let c = chars[key_len];
        if !escaped && (c == '=' || c == ':') {
            value_start = key_len + 1;
            has_sep = true;
            break;
        }
        if !escaped && is_blank(c) {
            value_start = key_len + 1;
            break;
        }
        escaped = c == '\\' && !escaped;
        key_len += 1;
    }
    while value_start < len {
        let c = chars[value_start];
        if !is_blank(c) {
            if !has_sep && (c == '=' || c == ':') {
                has_sep = true;
            } else {
                break;
            }
        }
        value_start += 1;
    }
    Ok((
        unescape(&chars[..key_len])?,
        unescape(&chars[value_start..])?,
    ))
}

/// Every (key, value) in file order, duplicates included (the last one
/// wins in Properties).
pub fn parse(text: &str) -> Result<Vec<(String, String)>> {
    logical_lines(text).iter().map(|l| split_line(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap()
    }

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_string(), v.to_string())
    }

    #[test]
    fn separators() {
        assert_eq!(
            kv("a=1\nb: 2\nc 3\nd\t=\t4\ne\nf=\ng :5"),
            vec![
                pair("a", "1"),
                pair("b", "2"),
                pair("c", "3"),
                pair("d", "4"),
                pair("e", ""),
                pair("f", ""),
                pair("g", "5")
            ]
        );
        // Only the first separator counts; the rest is value.
        assert_eq!(kv("a==b"), vec![pair("a", "=b")]);
        assert_eq!(kv("a = b = c"), vec![pair("a", "b = c")]);
        assert_eq!(kv("url=http://x:1"), vec![pair("url", "http://x:1")]);
    }

    #[test]
    fn comments_and_blank_lines() {
        let text = "# c1\n  ! c2\n\n   \t\nk=v # not a comment\n#k2=v2\n";
        assert_eq!(kv(text), vec![pair("k", "v # not a comment")]);
    }

    #[test]
    fn line_endings() {
        assert_eq!(
            kv("a=1\r\nb=2\rc=3\n"),
            vec![pair("a", "1"), pair("b", "2"), pair("c", "3")]
        );
    }

    #[test]
    fn continuation() {
        assert_eq!(
            kv("a=1,\\\n    2,\\\n\t3\nb=4"),
            vec![pair("a", "1,2,3"), pair("b", "4")]
        );
        // An even number of backslashes is an escaped backslash, not a join.
        assert_eq!(kv("a=x\\\\\nb=y"), vec![pair("a", "x\\"), pair("b", "y")]);
        // A continued line that looks like a comment is still value.
        assert_eq!(kv("a=1\\\n # 2"), vec![pair("a", "1# 2")]);
        // A comment ending in a backslash does not swallow the next line.
        assert_eq!(kv("# c \\\nb=2"), vec![pair("b", "2")]);
        // Continuation at end of input.
        assert_eq!(kv("a=1\\"), vec![pair("a", "1")]);
        // The key itself may continue.
        assert_eq!(kv("ke\\\n  y=v"), vec![pair("key", "v")]);
    }

    #[test]
    fn escapes() {
        assert_eq!(kv(r"a\=b=c\td"), vec![pair("a=b", "c\td")]);
        assert_eq!(kv(r"a\ b c"), vec![pair("a b", "c")]);
        assert_eq!(kv(r"k=\u0041\x"), vec![pair("k", "Ax")]);
        assert!(parse(r"k=\u00zz").is_err());
        assert!(parse(r"k=\u00").is_err());
    }

    #[test]
    fn trailing_blanks_are_kept_for_the_caller() {
        assert_eq!(kv("  k = v  "), vec![pair("k", "v  ")]);
    }
}
