use super::*;

fn cfg(text: &str) -> Config {
    Config::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(text: &str) -> String {
    match Config::parse(text) {
        Err(Error::Config(m)) => m,
        other => panic!("{text}: expected a config error, got {other:?}"),
    }
}

const MIN: &str = "dataDir=/var/zk\n";

const ENSEMBLE: &str =
    "tickTime=2000\ndataDir=/var/zk\nclientPort=2181\ninitLimit=5\nsyncLimit=2\n\
                        server.1=zk1:2888:3888\nserver.2=zk2:2888:3888\nserver.3=zk3:2888:3888\n";

#[test]
fn defaults_follow_zookeeper() {
    let c = cfg(MIN);
    assert_eq!(c.tick_time, 3000);
    assert_eq!(c.data_dir, PathBuf::from("/var/zk"));
    assert_eq!(c.data_log_dir, PathBuf::from("/var/zk"));
    assert_eq!(c.client_port, None);
    assert_eq!(c.client_port_address, None);
    assert_eq!(c.secure_client_port, None);
    assert_eq!(c.client_port_listen_backlog, -1);
    assert_eq!((c.init_limit, c.sync_limit), (0, 0));
    assert!(c.servers.is_empty());
    assert_eq!(c.peer_type, Role::Participant);
    assert_eq!(c.max_client_cnxns, 60);
    assert_eq!(c.max_cnxns, 0);
    assert_eq!(
        (c.min_session_timeout, c.max_session_timeout),
        (6000, 60000)
    );
    assert_eq!(c.snap_count, 100_000);
    assert_eq!(c.autopurge_snap_retain_count, 3);
    assert_eq!(c.autopurge_purge_interval, Duration::ZERO);
    assert!(!c.reconfig_enabled);
    assert!(c.standalone_enabled);
    assert_eq!(
        c.four_letter_whitelist,
        BTreeSet::from(["srvr".to_string()])
    );
    assert_eq!(c.jute_max_buffer, 0xfffff);
    assert!(!c.local_sessions_enabled && !c.local_sessions_upgrading_enabled);
    assert_eq!(c.super_digest, None);
    assert!(!c.extended_types_enabled);
    assert_eq!(
        (c.container_check_interval_ms, c.container_max_per_minute),
        (60_000, 10_000)
    );
    assert!(!c.linearizable_reads);
    assert_eq!(c.server_id, None);
    assert!(c.properties.is_empty());
    assert!(!c.is_distributed());
}

#[test]
fn zkrs_default_is_local_standalone() {
    let c = Config::default();
    assert_eq!(c.client_port, Some(2181));
    assert_eq!(c.client_port_address.as_deref(), Some("127.0.0.1"));
    assert_eq!(c.data_dir, PathBuf::from("./zkrs-data"));
    assert_eq!(c.data_log_dir, c.data_dir);
    assert_eq!(
        (c.min_session_timeout, c.max_session_timeout),
        (6000, 60000)
    );
    assert!(c.is_4lw_enabled("srvr") && !c.is_4lw_enabled("ruok"));
}

#[test]
fn every_key_is_parsed() {
    let text = "\
tickTime=2000
dataDir=/data
dataLogDir=/log
clientPort=2182
clientPortAddress=10.0.0.1
secureClientPort=2281
secureClientPortAddress=10.0.0.2
clientPortListenBacklog=50
initLimit=10
syncLimit=5
peerType=observer
maxClientCnxns=0
maxCnxns=500
minSessionTimeout=3000
maxSessionTimeout=90000
snapCount=5000
autopurge.snapRetainCount=7
autopurge.purgeInterval=24
reconfigEnabled=true
standaloneEnabled=false
4lw.commands.whitelist=stat, ruok
jute.maxbuffer=0x400000
localSessionsEnabled=true
localSessionsUpgradingEnabled=TRUE
DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
extendedTypesEnabled=true
znode.container.checkIntervalMs=1000
znode.container.maxPerMinute=50
linearizableReads=true
server.1=h1:2888:3888
";
    let c = cfg(text);
    assert_eq!(c.tick_time, 2000);
    assert_eq!(c.data_dir, PathBuf::from("/data"));
    assert_eq!(c.data_log_dir, PathBuf::from("/log"));
    assert_eq!(c.client_port, Some(2182));
    assert_eq!(c.client_port_address.as_deref(), Some("10.0.0.1"));
    assert_eq!(c.secure_client_port, Some(2281));
    assert_eq!(c.secure_client_port_address.as_deref(), Some("10.0.0.2"));
    assert_eq!(c.client_port_listen_backlog, 50);
    assert_eq!((c.init_limit, c.sync_limit), (10, 5));
    assert_eq!(c.peer_type, Role::Observer);
    assert_eq!((c.max_client_cnxns, c.max_cnxns), (0, 500));
    assert_eq!(
        (c.min_session_timeout, c.max_session_timeout),
        (3000, 90000)
    );
    assert_eq!(c.snap_count, 5000);
    assert_eq!(c.autopurge_snap_retain_count, 7);
    assert_eq!(c.autopurge_purge_interval, Duration::from_secs(24 * 3600));
    assert!(c.reconfig_enabled && !c.standalone_enabled);
    assert!(c.is_4lw_enabled("stat") && c.is_4lw_enabled("ruok") && c.is_4lw_enabled("srvr"));
    assert!(!c.is_4lw_enabled("conf"));
    assert_eq!(c.jute_max_buffer, 0x400000);
    assert!(c.local_sessions_enabled && c.local_sessions_upgrading_enabled);
    assert_eq!(
        c.super_digest.as_deref(),
        Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
    );
    assert!(c.extended_types_enabled);
    assert_eq!(
        (c.container_check_interval_ms, c.container_max_per_minute),
        (1000, 50)
    );
    assert!(c.linearizable_reads);
    assert_eq!(c.servers.len(), 1);
    // One participant with standaloneEnabled=false is a (one-member) ensemble.
    assert!(c.is_distributed());
    assert!(c.properties.is_empty(), "{:?}", c.properties);
}

#[test]
fn session_timeouts_default_from_tick_time() {
    let c = cfg("tickTime=1000\ndataDir=/d\n");
    assert_eq!(
        (c.min_session_timeout, c.max_session_timeout),
        (2000, 20000)
    );
    let c = cfg("tickTime=1000\ndataDir=/d\nmaxSessionTimeout=5000\n");
    assert_eq!((c.min_session_timeout, c.max_session_timeout), (2000, 5000));
}

#[test]
fn min_session_timeout_above_max_is_rejected() {
    let m = err("dataDir=/d\nminSessionTimeout=10000\nmaxSessionTimeout=5000\n");
    assert!(
        m.contains("minSessionTimeout") && m.contains("maxSessionTimeout"),
        "{m}"
    );
    // Against the tickTime-derived default too (20 * 3000 = 60000).
    assert!(err("dataDir=/d\nminSessionTimeout=70000\n").contains("minSessionTimeout"));
}

#[test]
fn bad_values_name_key_and_value() {
    let cases = [
        ("tickTime", "abc", "is not a number"),
        ("tickTime", "-5", "out of range"),
        ("tickTime", "0", "positive"),
        ("initLimit", "x", "not a number"),
        ("syncLimit", "1.5", "not a number"),
        ("clientPort", "70000", "out of range"),
        ("clientPort", "", "not a number"),
        ("secureClientPort", "port", "not a number"),
        ("clientPortListenBacklog", "big", "not a number"),
        ("maxClientCnxns", "many", "not a number"),
        ("maxCnxns", "lots", "not a number"),
        ("minSessionTimeout", "soon", "not a number"),
        ("maxSessionTimeout", "later", "not a number"),
        ("snapCount", "1e5", "not a number"),
        ("autopurge.snapRetainCount", "three", "not a number"),
        ("autopurge.purgeInterval", "1w", "not a time interval"),
        ("autopurge.purgeInterval", "h", "not a time interval"),
        ("peerType", "leader", "participant"),
        ("standaloneEnabled", "yes", "'true' or 'false'"),
        ("reconfigEnabled", "1", "'true' or 'false'"),
        ("localSessionsEnabled", "on", "'true' or 'false'"),
        ("localSessionsUpgradingEnabled", "on", "'true' or 'false'"),
        ("extendedTypesEnabled", "enabled", "'true' or 'false'"),
        ("linearizableReads", "maybe", "'true' or 'false'"),
        ("jute.maxbuffer", "1M", "not a number"),
        ("jute.maxbuffer", "0", "positive"),
        ("jute.maxbuffer", "0x100000000", "out of range"),
        (
            "DigestAuthenticationProvider.superDigest",
            "nocolon",
            "user:digest",
        ),
        ("znode.container.checkIntervalMs", "often", "not a number"),
        ("znode.container.maxPerMinute", "-1", "out of range"),
        ("electionAlg", "1", "only 3"),
        ("syncEnabled", "nope", "'true' or 'false'"),
        ("observerMasterPort", "p", "not a number"),
        ("dataLogDir", "", "is empty"),
        ("admin.enableServer", "yes", "'true' or 'false'"),
        ("admin.serverPort", "http", "not a number"),
        ("zookeeper.admin.serverPort", "70000", "out of range"),
        ("admin.commandURL", "commands", "start with '/'"),
        (
            "metricsProvider.className",
            "com.example.Metrics",
            "not supported",
        ),
    ];
    for (key, value, why) in cases {
        let m = err(&format!("dataDir=/d\n{key}={value}\n"));
        assert!(
            m.contains(&format!("{key}: '{value}'")) && m.contains(why),
            "{key}={value}: {m}"
        );
    }
    assert_eq!(
        err("dataDir=/d\ntickTime=abc\n"),
        "tickTime: 'abc' is not a number"
    );
}

#[test]
fn clamps_zookeeper_applies_silently() {
    let c = cfg("dataDir=/d\nautopurge.snapRetainCount=1\nsnapCount=1\nmaxCnxns=-4\n");
    assert_eq!(c.autopurge_snap_retain_count, 3);
    assert_eq!(c.snap_count, 2);
    assert_eq!(c.max_cnxns, 0);
}

#[test]
fn purge_interval_units() {
    let of = |v: &str| {
        cfg(&format!("dataDir=/d\nautopurge.purgeInterval={v}\n")).autopurge_purge_interval
    };
    assert_eq!(of("1"), Duration::from_secs(3600));
    assert_eq!(of("0"), Duration::ZERO);
    assert_eq!(of("-1"), Duration::ZERO);
    assert_eq!(of("90s"), Duration::from_secs(90));
    assert_eq!(of("30m"), Duration::from_secs(1800));
    assert_eq!(of("2H"), Duration::from_secs(7200));
    assert_eq!(of("1d"), Duration::from_secs(86400));
    assert_eq!(of("500ms"), Duration::from_millis(500));
}

#[test]
fn jute_maxbuffer_is_read_like_integer_decode() {
    let of = |v: &str| cfg(&format!("dataDir=/d\njute.maxbuffer={v}\n")).jute_max_buffer;
    assert_eq!(of("4194304"), 4 << 20);
    assert_eq!(of("0xfffff"), 0xfffff);
    assert_eq!(of("#FF"), 255);
    assert_eq!(of("010"), 8);
}

#[test]
fn required_and_dependent_keys() {
    assert_eq!(err("tickTime=2000\n"), "dataDir is not set");
    assert!(err("dataDir=/d\nclientPortAddress=1.2.3.4\n").contains("clientPort is not set"));
    assert!(err("dataDir=/d\nsecureClientPortAddress=1.2.3.4\n")
        .contains("secureClientPort is not set"));
    let no_limits = "dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n";
    assert_eq!(err(no_limits), "initLimit is not set");
    assert_eq!(
        err(&format!("{no_limits}initLimit=5\n")),
        "syncLimit is not set"
    );
    cfg(&format!("{no_limits}initLimit=5\nsyncLimit=2\n"));
}

#[test]
fn membership_rules() {
    // Observers need participants, and a quorum of them when standalone is on.
    assert!(err("dataDir=/d\nserver.1=a:1:2:observer\n").contains("observers"));
    assert!(err("dataDir=/d\nserver.1=a:1:2\nserver.2=b:1:2:observer\n").contains("observers"));
    assert!(err("dataDir=/d\nstandaloneEnabled=false\n").contains("participant"));
    // A single participant is tolerated and means standalone.
    let c = cfg("dataDir=/d\nserver.1=a:1:2\n");
    assert!(!c.is_distributed());
    assert!(cfg(ENSEMBLE).is_distributed());
    // The same id twice (here as "1" and "01") is refused.
    assert!(err(&format!("{ENSEMBLE}server.01=x:1:2\n")).contains("repeats"));
    assert!(err("dataDir=/d\nserver.x=a:1:2\n").contains("server.x"));
}

#[test]
fn server_lines_in_all_forms() {
    let p = |v: &str| ServerEntry::parse(1, v).unwrap_or_else(|e| panic!("{v}: {e}"));
    let e = p("zk1:2888:3888");
    assert_eq!(
        e,
        ServerEntry {
            id: 1,
            host: "zk1".into(),
            peer_port: 2888,
            election_port: 3888,
            role: Role::Participant,
            client_addr: None,
            secure_client_addr: None
        }
    );
    assert_eq!(p("zk1:2888:3888:observer").role, Role::Observer);
    assert_eq!(p("zk1:2888:3888:PARTICIPANT").role, Role::Participant);
    assert_eq!(
        p("zk1:2888:3888;2181").client_addr,
        Some(("0.0.0.0".into(), 2181))
    );
    let e = p("zk1:2888:3888:observer;127.0.0.1:2181");
    assert_eq!(
        (e.role, e.client_addr),
        (Role::Observer, Some(("127.0.0.1".into(), 2181)))
    );
    let e = p("[::1]:2888:3888;[::1]:2181");
    assert_eq!(e.host, "::1");
    assert_eq!(e.client_addr, Some(("::1".into(), 2181)));
    let e = p("zk1:2888:3888;;2281");
    assert_eq!(
        (e.client_addr, e.secure_client_addr),
        (None, Some(("0.0.0.0".into(), 2281)))
    );
    assert_eq!(p("  zk1:2888:3888;  ").client_addr, None);

    for bad in [
        "zk1",
        "zk1:2888",
        "zk1:2888:3888:observer:x",
        "zk1:x:3888",
        "zk1:2888:99999",
        "zk1:2888:2888",
        "zk1:2888:3888:leader",
        "zk1:2888:3888;a:b:c",
        "zk1:2888:3888;port",
        "a:1:2|b:1:2",
        "[::1:2888:3888",
        ":2888:3888",
    ] {
        let m = match ServerEntry::parse(4, bad) {
            Err(Error::Config(m)) => m,
            other => panic!("{bad}: {other:?}"),
        };
        assert!(
            m.contains("server.4") || m.contains("peertype"),
            "{bad}: {m}"
        );
    }
}

#[test]
fn servers_from_zoo_cfg_are_sorted_and_printed_like_zookeeper() {
    let c = cfg(&format!(
        "{ENSEMBLE}server.10=zk10:2888:3888:observer;127.0.0.1:2190\n"
    ));
    let ids: Vec<u64> = c.servers.iter().map(|s| s.id).collect();
    assert_eq!(ids, vec![1, 2, 3, 10]);
    assert_eq!(
        c.membership(0x100000000),
        "server.1=zk1:2888:3888:participant\nserver.2=zk2:2888:3888:participant\n\
         server.3=zk3:2888:3888:participant\nserver.10=zk10:2888:3888:observer;127.0.0.1:2190\n\
         version=100000000"
    );
    let e = ServerEntry::parse(1, "[::1]:1:2;;3").unwrap();
    assert_eq!(e.to_string(), "[::1]:1:2:participant;;0.0.0.0:3");
}

#[test]
fn continuation_lines_comments_and_blanks() {
    let text = "# ZooKeeper config\n\
                ! also a comment\n\
                \n\
                tickTime = 2000   \n\
                dataDir : /var/lib/zookeeper\n\
                clientPort 2181\n\
                4lw.commands.whitelist=stat, \\\n    ruok, \\\n    conf\n\
                \t  # indented comment\n\
                server.1=zk1:2888:\\\n  3888\n";
    let c = cfg(text);
    assert_eq!(c.tick_time, 2000);
    assert_eq!(c.data_dir, PathBuf::from("/var/lib/zookeeper"));
    assert_eq!(c.client_port, Some(2181));
    for w in ["stat", "ruok", "conf", "srvr"] {
        assert!(c.is_4lw_enabled(w), "{w}");
    }
    assert_eq!(c.servers[0].election_port, 3888);
    // Trailing blanks never reach a value; CRLF files work.
    let c = cfg("dataDir=/d  \r\nclientPort=2181 \t\r\n");
    assert_eq!(c.data_dir, PathBuf::from("/d"));
    assert_eq!(c.client_port, Some(2181));
}

#[test]
fn later_duplicate_key_wins() {
    assert_eq!(
        cfg("dataDir=/d\ntickTime=1000\ntickTime=2000\n").tick_time,
        2000
    );
}

#[test]
fn unknown_keys_are_kept() {
    let c = cfg("dataDir=/d\nadmin.serverPort=8080\nsnapshot.trust.empty = true \nweird key: x\nsyncEnabled=false\n");
    assert_eq!(
        c.properties.get("admin.serverPort").map(String::as_str),
        Some("8080")
    );
    assert_eq!(
        c.properties.get("snapshot.trust.empty").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        c.properties.get("weird").map(String::as_str),
        Some("key: x")
    );
    assert_eq!(
        c.properties.get("syncEnabled").map(String::as_str),
        Some("false")
    );
    assert_eq!(c.properties.len(), 4);
}

#[test]
fn whitelist_forms() {
    let wl = |v: &str| cfg(&format!("dataDir=/d\n4lw.commands.whitelist={v}\n"));
    let all = wl("*");
    for w in FOUR_LETTER_WORDS {
        assert!(all.is_4lw_enabled(w), "{w}");
    }
    assert!(!all.is_4lw_enabled("nope"));
    let c = wl("mntr,ruok");
    assert!(c.is_4lw_enabled("mntr") && c.is_4lw_enabled("ruok") && c.is_4lw_enabled("srvr"));
    assert!(!c.is_4lw_enabled("stat"));
    let c = wl("stat ruok , conf");
    assert!(c.is_4lw_enabled("stat") && c.is_4lw_enabled("ruok") && c.is_4lw_enabled("conf"));
    // Empty still leaves srvr on, as zkServer.sh needs it.
    let c = wl("");
    assert_eq!(
        c.four_letter_whitelist,
        BTreeSet::from(["srvr".to_string()])
    );
    assert!(wl("ruok, *").is_4lw_enabled("wchc"));
}

#[test]
fn myid_and_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    assert_eq!(read_myid(&data).unwrap(), None);
    std::fs::write(data.join("myid"), "2\n").unwrap();
    assert_eq!(read_myid(&data).unwrap(), Some(2));
    std::fs::write(data.join("myid"), "two\n").unwrap();
    assert!(matches!(read_myid(&data), Err(Error::Config(m)) if m.contains("two")));
    std::fs::write(data.join("myid"), "3").unwrap();

    let file = dir.path().join("zoo.cfg");
    let text = format!(
        "tickTime=2000\ndataDir={}\ninitLimit=5\nsyncLimit=2\n\
         server.1=zk1:2888:3888\nserver.2=zk2:2888:3888\n\
         server.3=zk3:2888:3888:observer;127.0.0.3:2183\nserver.4=zk4:2888:3888\n",
        data.display()
    );
    std::fs::write(&file, &text).unwrap();
    let c = Config::load(&file).unwrap();
    assert_eq!(c.server_id, Some(3));
    // This member's server.N line gives its client address and role.
    assert_eq!(c.client_port, Some(2183));
    assert_eq!(c.client_port_address.as_deref(), Some("127.0.0.3"));
    assert_eq!(c.peer_type, Role::Observer);
    assert_eq!(c.me().unwrap().host, "zk3");

    // A clientPort that contradicts the server line is refused.
    std::fs::write(&file, format!("{text}clientPort=2999\n")).unwrap();
    assert!(Config::load(&file).is_err());

    // A distributed configuration needs a myid file.
    std::fs::remove_file(data.join("myid")).unwrap();
    std::fs::write(&file, &text).unwrap();
    assert!(matches!(Config::load(&file), Err(Error::Config(m)) if m.contains("myid")));

    // Errors name the file; missing files are errors.
    std::fs::write(&file, "dataDir=/d\ntickTime=abc\n").unwrap();
    let m = Config::load(&file).unwrap_err().to_string();
    assert!(
        m.contains("zoo.cfg") && m.contains("tickTime: 'abc'"),
        "{m}"
    );
    assert!(Config::load(dir.path().join("absent.cfg")).is_err());
}

#[test]
fn load_resolves_relative_dirs_against_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zoo.cfg");
    std::fs::write(&file, "dataDir=rel/data\ndataLogDir=./rel/log\n").unwrap();
    let c = Config::load(&file).unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert!(c.data_dir.is_absolute() && c.data_log_dir.is_absolute());
    assert_eq!(c.data_dir, cwd.join("rel/data"));
    assert!(c.data_log_dir.starts_with(&cwd) && c.data_log_dir.ends_with("rel/log"));
}

#[test]
fn load_reads_latin1_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("zoo.cfg");
    std::fs::write(&file, b"dataDir=/d\nowner=J\xf6rg\n").unwrap();
    let c = Config::load(&file).unwrap();
    assert_eq!(c.properties["owner"], "J\u{f6}rg");
}

#[test]
fn conf_lines_standalone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("snap"), [0u8; 10]).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/log"), [0u8; 5]).unwrap();
    let c = cfg(&format!(
        "dataDir={}\nclientPort=2181\n",
        dir.path().display()
    ));
    let lines = c.to_conf_lines();
    let keys: Vec<&str> = lines.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "clientPort",
            "secureClientPort",
            "dataDir",
            "dataDirSize",
            "dataLogDir",
            "dataLogSize",
            "tickTime",
            "maxClientCnxns",
            "minSessionTimeout",
            "maxSessionTimeout",
            "clientPortListenBacklog",
            "serverId"
        ]
    );
    let get = |k: &str| lines.iter().find(|(key, _)| key == k).unwrap().1.clone();
    assert_eq!(get("clientPort"), "2181");
    assert_eq!(get("secureClientPort"), "-1");
    assert_eq!(get("dataDir"), dir.path().display().to_string());
    assert_eq!(get("dataDirSize"), "15");
    assert_eq!(get("dataLogSize"), "15");
    assert_eq!(get("tickTime"), "3000");
    assert_eq!(get("maxClientCnxns"), "60");
    assert_eq!(get("minSessionTimeout"), "6000");
    assert_eq!(get("maxSessionTimeout"), "60000");
    assert_eq!(get("clientPortListenBacklog"), "-1");
    assert_eq!(get("serverId"), "0");
}

#[test]
fn conf_lines_in_an_ensemble() {
    let mut c = cfg(ENSEMBLE);
    c.set_server_id(2).unwrap();
    let lines = c.to_conf_lines();
    let tail: Vec<(String, String)> = lines[11..].to_vec();
    let want = [
        ("serverId", "2"),
        ("initLimit", "5"),
        ("syncLimit", "2"),
        ("electionAlg", "3"),
        ("electionPort", "3888"),
        ("quorumPort", "2888"),
        ("peerType", "0"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(tail, want);
    assert_eq!(dir_size(Path::new("/definitely/not/here")), 0);
}

#[test]
fn admin_server_and_metrics_endpoints() {
    // On by default from a zoo.cfg, as ZooKeeper's JettyAdminServer.
    let c = cfg("dataDir=/d\n");
    let on = c.admin.endpoint.expect("admin server on by default");
    assert_eq!((on.address.as_str(), on.port), ("0.0.0.0", 8080));
    assert_eq!(c.admin.command_url, "/commands");
    assert_eq!(c.metrics_http, None);
    // Off without a zoo.cfg.
    assert_eq!(Config::default().admin.endpoint, None);
    let c = cfg("dataDir=/d\nadmin.enableServer=false\n");
    assert_eq!(c.admin.endpoint, None);
    let c = cfg(
        "dataDir=/d\nzookeeper.admin.serverAddress=127.0.0.2\nadmin.serverPort=9090\n\
         admin.commandURL=/cmds/\nmetricsProvider.className=\
         org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n\
         metricsProvider.httpPort=7001\n",
    );
    let on = c.admin.endpoint.unwrap();
    assert_eq!((on.address.as_str(), on.port), ("127.0.0.2", 9090));
    assert_eq!(c.admin.command_url, "/cmds");
    let m = c.metrics_http.unwrap();
    assert_eq!((m.address.as_str(), m.port), ("0.0.0.0", 7001));
}

#[test]
fn snapshot_compression_by_either_name() {
    assert_eq!(cfg(MIN).snapshot_compression, Compression::None);
    let gz = cfg(&format!("{MIN}snapshot.compression.method=gz\n"));
    assert_eq!(gz.snapshot_compression, Compression::Gzip);
    let snappy = cfg(&format!(
        "{MIN}zookeeper.snapshot.compression.method=snappy\n"
    ));
    assert_eq!(snappy.snapshot_compression, Compression::Snappy);
    let none = cfg(&format!("{MIN}snapshot.compression.method=\n"));
    assert_eq!(none.snapshot_compression, Compression::None);
    let m = err(&format!("{MIN}snapshot.compression.method=zstd\n"));
    assert!(
        m.contains("snapshot.compression.method") && m.contains("zstd"),
        "{m}"
    );
}
