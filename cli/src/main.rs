//! The `zkrs` command.
fn main() {
    println!("zkrs {}", env!("CARGO_PKG_VERSION"));
}
