//! SASL DIGEST-MD5 end to end: a member with JAAS users, the Rust client
//! logging in (its connection is then `sasl:<user>`), and a wrong password
//! or unknown user ending the session as AuthFailed.

#[path = "client_support.rs"]
mod support;

use std::time::Duration;

use support::{bounded, TestServer};
use zkrs::client::{Client, ClientOptions};
use zkrs::sasl::SaslClient;
use zkrs::Error;

const JAAS: &str = r#"Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_jaasuser="jaas_password";
};"#;

async fn connect_as(hosts: &str, user: &str, password: &str) -> Result<Client, Error> {
    let opts = ClientOptions {
        connect_timeout: Duration::from_secs(5),
        sasl: Some(SaslClient {
            username: user.into(),
            password: password.into(),
        }),
        ..Default::default()
    };
    Client::connect(hosts, opts).await
}

#[tokio::test(flavor = "multi_thread")]
async fn sasl_login_and_refusals() {
    bounded(async {
        let jaas = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(jaas.path(), JAAS).unwrap();
        let extra = format!(
            "java.security.auth.login.config={}\n",
            jaas.path().display()
        );
        let s = TestServer::start_with(&extra).await;
        let zk = connect_as(&s.hosts(), "jaasuser", "jaas_password")
            .await
            .unwrap();
        let ids = zk.who_am_i().await.unwrap();
        assert!(ids.contains(&("sasl".into(), "jaasuser".into())), "{ids:?}");
        zk.close().await.unwrap();
        for (user, password) in [("jaasuser", "wrong"), ("nobody", "x")] {
            let r = connect_as(&s.hosts(), user, password).await;
            assert!(matches!(r, Err(Error::AuthFailed)), "{user}: {:?}", r.err());
        }
    })
    .await;
}

/// Quorum SASL's keys are checked as ZooKeeper checks them before a
/// member starts; with them right (and a JAAS file with both sections) a
/// member starts.
#[tokio::test(flavor = "multi_thread")]
async fn quorum_sasl_settings_are_checked_at_start() {
    bounded(async {
        let dir = tempfile::tempdir().unwrap();
        let jaas = dir.path().join("jaas.conf");
        std::fs::write(
            &jaas,
            r#"QuorumServer {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                user_learner="secret";
            };
            QuorumLearner {
                org.apache.zookeeper.server.auth.DigestLoginModule required
                username="learner" password="secret";
            };"#,
        )
        .unwrap();
        let with_jaas = format!("java.security.auth.login.config={}\n", jaas.display());
        let cases = [
            (
                "quorum.auth.serverRequireSasl=true\nquorum.auth.learnerRequireSasl=true\n".to_string(),
                "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.serverRequireSasl",
            ),
            (
                "quorum.auth.learnerRequireSasl=true\n".to_string(),
                "quorum.auth.enableSasl is disabled, so cannot enable quorum.auth.learnerRequireSasl",
            ),
            (
                "quorum.auth.enableSasl=true\nquorum.auth.serverRequireSasl=true\n".to_string(),
                "quorum.auth.learnerRequireSasl is disabled, so cannot enable quorum.auth.serverRequireSasl",
            ),
            (
                "quorum.auth.enableSasl=true\n".to_string(),
                "needs java.security.auth.login.config",
            ),
            (
                format!("quorum.auth.enableSasl=true\nquorum.auth.server.saslLoginContext=Nope\n{with_jaas}"),
                "Nope",
            ),
        ];
        for (extra, says) in cases {
            let cfg = support::config(dir.path(), 0, &extra);
            match zkrs::server::Server::start(cfg).await {
                Err(Error::Config(m)) => assert!(m.contains(says), "{extra}: {m}"),
                Err(e) => panic!("{extra}: {e:?}"),
                Ok(_) => panic!("{extra}: started"),
            }
        }
        let all = format!(
            "quorum.auth.enableSasl=true\nquorum.auth.learnerRequireSasl=true\n\
             quorum.auth.serverRequireSasl=true\n{with_jaas}"
        );
        let s = TestServer::start_with(&all).await;
        support::connect(&s.hosts()).await.close().await.unwrap();
    })
    .await;
}
