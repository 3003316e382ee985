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
