//! Znode path rules: ZooKeeper's `PathUtils.validatePath` and the
//! parent/child split its request processors use. Knows strings, not nodes.

use crate::{Error, Result};

/// Paths ZooKeeper owns; they can be neither deleted nor replaced
/// (`DataTree.isSpecialPath`).
pub const SPECIAL_PATHS: [&str; 4] = ["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"];

/// Checks `path` exactly as `PathUtils.validatePath(path, sequential)`:
/// absolute, no empty, "." or ".." segment, no trailing '/' except for the
/// root, no null or forbidden character. A sequential path may end in '/'
/// because the server appends the counter.
pub fn validate_path(path: &str, sequential: bool) -> Result<()> {
    if sequential {
        check(&format!("{path}1"))
    } else {
        check(path)
    }
}

fn check(path: &str) -> Result<()> {
    // Java walks UTF-16 units. A char above U+FFFF is a surrogate pair there
    // and surrogates are rejected, so walking chars and rejecting those
    // chars gives the same verdict.
    let chars: Vec<char> = path.chars().collect();
    if chars.first() != Some(&'/') {
        return Err(Error::BadArguments);
    }
    if chars.len() == 1 {
        return Ok(());
    }
    if chars.last() == Some(&'/') {
        return Err(Error::BadArguments);
    }
    if (1..chars.len()).any(|i| bad_at(&chars, i)) {
        return Err(Error::BadArguments);
    }
    Ok(())
}

/// Whether the char at `i` (>= 1) breaks a rule, mirroring the branch order
/// of the Java loop.
fn bad_at(chars: &[char], i: usize) -> bool {
    let (c, last) = (chars[i], chars[i - 1]);
    let segment_ends = i + 1 == chars.len() || chars[i + 1] == '/';
    match c {
        '\0' => true,
        '/' => last == '/',
        // last == '.' implies i >= 2, since chars[0] is '/'.
        '.' if last == '.' => chars[i - 2] == '/' && segment_ends,
        '.' => last == '/' && segment_ends,
        c => forbidden(c),
    }
}

fn forbidden(c: char) -> bool {
    matches!(c as u32, 0x01..=0x1f | 0x7f..=0x9f | 0xd800..=0xf8ff | 0xfff0..)
}

/// Splits `path` into (parent, child name) as ZooKeeper's
/// `validatePathForCreate` does: BadArguments without a '/' or with a null
/// char. The parent of a top-level node is "/".
pub fn split_parent(path: &str) -> Result<(&str, &str)> {
    let slash = path.rfind('/').ok_or(Error::BadArguments)?;
    if path.contains('\0') {
        return Err(Error::BadArguments);
    }
    let parent = if slash == 0 { "/" } else { &path[..slash] };
    Ok((parent, &path[slash + 1..]))
}

/// The path of `child` under `parent`: `split_parent`'s inverse.
pub fn join_child(parent: &str, child: &str) -> String {
    match parent {
        "/" => format!("/{child}"),
        p => format!("{p}/{child}"),
    }
}

/// Whether `path` is one of ZooKeeper's own nodes.
pub fn is_special_path(path: &str) -> bool {
    SPECIAL_PATHS.contains(&path)
}
