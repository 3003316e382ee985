//! Gives libzkrs.so its SONAME, as cargo-c does: `libzkrs.so.<major>`, or
//! `libzkrs.so.0.<minor>` before 1.0 (each 0.x minor may break the ABI).
//! Programs linked with `-lzkrs` then record the ABI version they were
//! built against; `capi/install.sh` installs the matching links.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os != "linux" {
        return;
    }
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_default();
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_default();
    let soname = if major == "0" {
        format!("libzkrs.so.0.{minor}")
    } else {
        format!("libzkrs.so.{major}")
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
}
