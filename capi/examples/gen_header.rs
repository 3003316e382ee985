//! Regenerates include/zkrs.h from capi/src:
//!     cargo run -p zkrs-capi --example gen_header

#[path = "../tests/support/header.rs"]
mod header;

fn main() {
    let path = header::header_path();
    header::write(&path, &header::generate());
    println!("wrote {}", path.display());
}
