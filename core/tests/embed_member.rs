//! The embed facade: a member started in-process from plain threads (as
//! the bindings do) serves the ZooKeeper port and cleans up after itself.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use zkrs::embed::{blocking, MemberOptions};

fn four_letter(addr: &str, word: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(word.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn temp_dirs() -> Vec<PathBuf> {
    let prefix = format!("zkrs-member-{}-", std::process::id());
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(&prefix)
        })
        .collect()
}

#[test]
fn blocking_member_serves_and_removes_its_temp_dir() {
    let mut m = blocking::Member::start(MemberOptions::default()).unwrap();
    let addr = m.connect_string().to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    assert_eq!(four_letter(&addr, "ruok"), "imok");
    assert!(four_letter(&addr, "srvr").contains("Mode: standalone"));
    assert_eq!(temp_dirs().len(), 1);
    m.stop();
    assert!(
        TcpStream::connect(&addr).is_err(),
        "port still open after stop"
    );
    assert!(temp_dirs().is_empty(), "temp data dir left behind");
}

#[test]
fn member_from_zoo_cfg_keeps_its_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "tickTime=500\ndataDir={}\nclientPort=0\nclientPortAddress=127.0.0.1\n4lw.commands.whitelist=ruok\n",
        dir.path().display()
    );
    let mut m = blocking::Member::from_zoo_cfg(&cfg).unwrap();
    let addr = m.connect_string().to_string();
    assert_eq!(four_letter(&addr, "ruok"), "imok");
    assert!(four_letter(&addr, "stat").contains("not in the whitelist"));
    m.stop();
    assert!(dir.path().join("zkrs").join("log").exists());
}

#[test]
fn bad_zoo_cfg_is_a_clear_error() {
    let err = blocking::Member::from_zoo_cfg("tickTime=abc\n")
        .err()
        .unwrap();
    assert!(err.to_string().contains("tickTime"), "{err}");
}
