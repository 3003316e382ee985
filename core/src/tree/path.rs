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
    // chars gives the same verdict. The rules on '/', '.' and '\0' look at
    // ASCII neighbours only, and no byte of a multi-byte UTF-8 char is
    // ASCII, so they can walk bytes; only the forbidden ranges above ASCII
    // need chars. This runs for every write, on every member.
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(Error::BadArguments);
    }
    if bytes.len() == 1 {
        return Ok(());
    }
    if bytes.last() == Some(&b'/')
        || (1..bytes.len()).any(|i| bad_at(bytes, i))
        || (!path.is_ascii() && path.chars().any(forbidden))
    {
        return Err(Error::BadArguments);
    }
    Ok(())
}

/// Whether the byte at `i` (>= 1) breaks a rule, mirroring the branch order
/// of the Java loop (forbidden chars above ASCII are checked apart).
fn bad_at(bytes: &[u8], i: usize) -> bool {
    let (c, last) = (bytes[i], bytes[i - 1]);
    let segment_ends = i + 1 == bytes.len() || bytes[i + 1] == b'/';
    match c {
        b'\0' => true,
        b'/' => last == b'/',
        // last == '.' implies i >= 2, since bytes[0] is '/'.
        b'.' if last == b'.' => bytes[i - 2] == b'/' && segment_ends,
        b'.' => last == b'/' && segment_ends,
        c => c.is_ascii() && forbidden(c as char),
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
