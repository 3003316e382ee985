//! Generates include/zkrs.h with cbindgen (as a library), for the drift
//! test and the `gen_header` example.

use std::path::{Path, PathBuf};

/// capi/ (this crate's directory).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// include/zkrs.h, the checked-in header.
pub fn header_path() -> PathBuf {
    crate_dir().join("..").join("include").join("zkrs.h")
}

/// The header as cbindgen generates it from capi/src now.
pub fn generate() -> String {
    let dir = crate_dir();
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml"))
        .expect("cannot read capi/cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen cannot generate the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen wrote non-UTF-8")
}

#[allow(dead_code)]
pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}
