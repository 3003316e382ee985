//! The checked-in include/zkrs.h must equal what cbindgen generates from
//! the Rust sources now: a changed signature or doc comment without a
//! regenerated header fails here.

#[path = "support/header.rs"]
mod header;

#[test]
fn header_matches_sources() {
    let generated = header::generate();
    let path = header::header_path();
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if generated != checked_in {
        let first = generated
            .lines()
            .zip(checked_in.lines())
            .position(|(a, b)| a != b)
            .map(|i| i + 1)
            .unwrap_or_else(|| generated.lines().count().min(checked_in.lines().count()) + 1);
        panic!(
            "{} is out of date with capi/src (first difference at line {first}).\n\
             Regenerate it with:\n    cargo run -p zkrs-capi --example gen_header\n\
             and commit the result.",
            path.display()
        );
    }
}
