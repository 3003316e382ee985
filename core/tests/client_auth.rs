//! Client auth: digest credentials, ACL enforcement (NoAuth), auth given
//! at connect and re-sent after a reconnect, rejected schemes.

#[path = "client_support.rs"]
mod support;

use std::time::Duration;

use support::{bounded, connect, opts, Proxy, TestServer};
use zkrs::client::{Client, SessionState};
use zkrs::{perms, Acl, CreateMode, Error, Id};

fn digest_acl(user_pass: &str, p: i32) -> Vec<Acl> {
    vec![Acl {
        perms: p,
        id: Id::new("digest", &zkrs::tree::digest(user_pass)),
    }]
}

#[tokio::test(flavor = "multi_thread")]
async fn digest_auth_and_acls() {
    bounded(async {
        let ts = TestServer::start().await;
        let alice = connect(&ts.hosts()).await;
        // creator_all needs an authenticated identity.
        assert_eq!(
            alice
                .create("/s", b"", &Acl::creator_all(), CreateMode::Persistent)
                .await,
            Err(Error::InvalidAcl)
        );
        alice.add_auth("digest", b"alice:secret").await.unwrap();
        let ids = alice.who_am_i().await.unwrap();
        assert!(
            ids.contains(&("digest".to_string(), zkrs::tree::digest("alice:secret"))),
            "{ids:?}"
        );
        alice
            .create("/s", b"top", &Acl::creator_all(), CreateMode::Persistent)
            .await
            .unwrap();
        let (acl, _) = alice.get_acl("/s").await.unwrap();
        assert_eq!(acl, digest_acl("alice:secret", perms::ALL));
        assert_eq!(alice.get_data("/s", None).await.unwrap().0, b"top");

        let anon = connect(&ts.hosts()).await;
        assert_eq!(anon.get_data("/s", None).await, Err(Error::NoAuth));
        assert_eq!(anon.set_data("/s", b"x", -1).await, Err(Error::NoAuth));
        // exists does not check ACLs.
        assert!(anon.exists("/s", None).await.unwrap().is_some());

        let mallory = connect(&ts.hosts()).await;
        mallory.add_auth("digest", b"alice:wrong").await.unwrap();
        assert_eq!(mallory.get_data("/s", None).await, Err(Error::NoAuth));

        // Credentials given at connect.
        let mut o = opts(4000);
        o.auth = vec![("digest".into(), b"alice:secret".to_vec())];
        let again = Client::connect(&ts.hosts(), o).await.unwrap();
        assert_eq!(again.get_data("/s", None).await.unwrap().0, b"top");

        // Read-only for bob, all for alice.
        let mut acl = digest_acl("alice:secret", perms::ALL);
        acl.extend(digest_acl("bob:pw", perms::READ));
        alice.set_acl("/s", &acl, -1).await.unwrap();
        let bob = connect(&ts.hosts()).await;
        bob.add_auth("digest", b"bob:pw").await.unwrap();
        assert_eq!(bob.get_data("/s", None).await.unwrap().0, b"top");
        assert_eq!(bob.set_data("/s", b"b", -1).await, Err(Error::NoAuth));
        assert_eq!(
            bob.create("/s/k", b"", &Acl::open_unsafe(), CreateMode::Persistent)
                .await,
            Err(Error::NoAuth)
        );
        // Deleting /s needs DELETE on its parent "/" (open), not on /s.
        bob.delete("/s", -1).await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_is_resent_after_reconnect() {
    bounded(async {
        let ts = TestServer::start().await;
        let proxy = Proxy::start(ts.addr).await;
        let zk = Client::connect(&proxy.addr.to_string(), opts(4000))
            .await
            .unwrap();
        zk.add_auth("digest", b"carol:pw").await.unwrap();
        zk.create("/c", b"mine", &Acl::creator_all(), CreateMode::Persistent)
            .await
            .unwrap();
        let sid = zk.session_id();
        let mut states = zk.subscribe_state();
        proxy.cut();
        while states.recv().await.unwrap() != SessionState::Disconnected {}
        proxy.restore();
        while states.recv().await.unwrap() != SessionState::Connected {}
        assert_eq!(zk.session_id(), sid);
        assert_eq!(zk.get_data("/c", None).await.unwrap().0, b"mine");
        let ids = zk.who_am_i().await.unwrap();
        assert_eq!(
            ids.iter().filter(|(s, _)| s == "digest").count(),
            1,
            "{ids:?}"
        );
    })
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_auth_ends_the_session() {
    bounded(async {
        let ts = TestServer::start().await;
        let zk = connect(&ts.hosts()).await;
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let l = log.clone();
        zk.add_state_listener(std::sync::Arc::new(move |s| l.lock().unwrap().push(s)));
        assert_eq!(zk.add_auth("nosuch", b"x").await, Err(Error::AuthFailed));
        assert_eq!(zk.state(), SessionState::AuthFailed);
        assert_eq!(zk.get_data("/", None).await, Err(Error::AuthFailed));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(*log.lock().unwrap(), vec![SessionState::AuthFailed]);

        let mut o = opts(4000);
        o.auth = vec![("nosuch".into(), b"x".to_vec())];
        assert_eq!(
            Client::connect(&ts.hosts(), o).await.err(),
            Some(Error::AuthFailed)
        );
    })
    .await
}
