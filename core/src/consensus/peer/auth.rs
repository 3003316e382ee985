//! Members authenticating each other, ZooKeeper's quorum SASL with
//! DIGEST-MD5: with `quorum.auth.learnerRequireSasl` a dialling member
//! logs in (its JAAS `QuorumLearner` section) before its first request;
//! the accepting member checks it against its `QuorumServer` users and,
//! with `quorum.auth.serverRequireSasl`, refuses a member that does not
//! log in. As in ZooKeeper, a member that does not require it lets such a
//! member through, so an ensemble turns it on one restart at a time.
//!
//! The exchange rides the link's own frames under a frame id no request
//! uses: the dialler opens with an empty one, the acceptor answers with
//! the challenge, the dialler with its response, the acceptor with its
//! rspauth (proof that it knows the password too) or by closing.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncWriteExt, BufReader, BufWriter};

use super::{read_frame, write_frame, Rd, Wr};
use crate::sasl::{DigestMd5, SaslClient, SaslUsers, Step};

/// The id of the login's frames.
const AUTH_FRAME: u64 = u64::MAX;

/// What an acceptor without quorum SASL answers a login with.
const NOT_HERE: &[u8] = b"quorum SASL is not enabled here";

/// A member's quorum SASL settings.
#[derive(Debug, Clone, Default)]
pub struct QuorumAuth {
    /// Dialling: log in as this (`learnerRequireSasl`).
    pub learner: Option<SaslClient>,
    /// Accepting: who may log in (`enableSasl`); None: logins are refused.
    pub server: Option<Arc<SaslUsers>>,
    /// Accepting: refuse a member that does not log in (`serverRequireSasl`).
    pub server_requires: bool,
}

/// The dialling side: logs in as `who` on a new link.
pub(super) async fn log_in(
    rd: &mut BufReader<Rd>,
    wr: &mut BufWriter<Wr>,
    who: &SaslClient,
) -> io::Result<()> {
    send(wr, b"").await?;
    let challenge = receive(rd).await?;
    if challenge == NOT_HERE {
        return Err(refused(String::from_utf8_lossy(NOT_HERE).into()));
    }
    let (response, rspauth) = who.respond(&challenge).map_err(refused)?;
    send(wr, &response).await?;
    let last = receive(rd).await?;
    match SaslClient::check_rspauth(&last, &rspauth) {
        true => Ok(()),
        false => Err(refused("the member's rspauth does not match".into())),
    }
}

/// The accepting side, on a link's first frame: runs the login if the
/// frame opens one (Ok(None) once it succeeded), or hands the frame back
/// as the link's first request if logging in is not required.
pub(super) async fn admit(
    rd: &mut BufReader<Rd>,
    wr: &mut BufWriter<Wr>,
    auth: &QuorumAuth,
    peer: SocketAddr,
) -> io::Result<Option<(u64, Vec<u8>)>> {
    let (id, opening) = read_frame(rd).await?;
    if id != AUTH_FRAME {
        return match auth.server_requires {
            true => Err(refused(format!(
                "the member at {peer} did not log in (quorum.auth.serverRequireSasl)"
            ))),
            false => Ok(Some((id, opening))),
        };
    }
    let Some(users) = &auth.server else {
        send(wr, NOT_HERE).await?;
        return Err(refused(format!(
            "the member at {peer} tried to log in; quorum.auth.enableSasl is off"
        )));
    };
    let mut exchange = DigestMd5::default();
    let mut token = opening;
    loop {
        match exchange.step(users, &token) {
            Ok(Step::Continue(challenge)) => send(wr, &challenge).await?,
            Ok(Step::Authenticated { user, token }) => {
                send(wr, &token).await?;
                tracing::info!("member at {peer} logged in as {user}");
                return Ok(None);
            }
            Err(why) => return Err(refused(format!("the member at {peer}: {why}"))),
        }
        token = receive(rd).await?;
    }
}

async fn send(wr: &mut BufWriter<Wr>, token: &[u8]) -> io::Result<()> {
    write_frame(wr, AUTH_FRAME, token).await?;
    wr.flush().await
}

async fn receive(rd: &mut BufReader<Rd>) -> io::Result<Vec<u8>> {
    let (id, token) = read_frame(rd).await?;
    match id {
        AUTH_FRAME => Ok(token),
        _ => Err(refused("a request in the middle of a login".into())),
    }
}

fn refused(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAAS: &str = r#"QuorumServer {
        org.apache.zookeeper.server.auth.DigestLoginModule required
        user_learner="secret";
    };"#;

    fn users() -> Option<Arc<SaslUsers>> {
        Some(Arc::new(
            SaslUsers::from_jaas(JAAS, "QuorumServer").unwrap(),
        ))
    }

    fn learner(password: &str) -> SaslClient {
        SaslClient {
            username: "learner".into(),
            password: password.into(),
        }
    }

    type Ends = (BufReader<Rd>, BufWriter<Wr>);

    fn link() -> (Ends, Ends) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let (ar, aw) = tokio::io::split(a);
        let (br, bw) = tokio::io::split(b);
        let end = |r: tokio::io::ReadHalf<_>, w: tokio::io::WriteHalf<_>| -> Ends {
            (
                BufReader::new(Box::new(r) as Rd),
                BufWriter::new(Box::new(w) as Wr),
            )
        };
        (end(ar, aw), end(br, bw))
    }

    fn peer() -> SocketAddr {
        "127.0.0.9:2888".parse().unwrap()
    }

    /// The dialler's login (if any, then a request frame) against `auth`.
    async fn run(
        dialler: Option<SaslClient>,
        auth: QuorumAuth,
    ) -> (io::Result<()>, io::Result<Option<(u64, Vec<u8>)>>) {
        let ((mut drd, mut dwr), (mut ard, mut awr)) = link();
        let dial = async move {
            if let Some(who) = &dialler {
                log_in(&mut drd, &mut dwr, who).await?;
            }
            write_frame(&mut dwr, 7, b"request").await?;
            dwr.flush().await
        };
        let accept = async move {
            let first = admit(&mut ard, &mut awr, &auth, peer()).await?;
            match first {
                Some(f) => Ok(Some(f)),
                None => read_frame(&mut ard).await.map(Some),
            }
        };
        tokio::join!(dial, accept)
    }

    #[tokio::test]
    async fn a_member_with_the_password_logs_in() {
        let auth = QuorumAuth {
            server: users(),
            server_requires: true,
            ..Default::default()
        };
        let (dialled, accepted) = run(Some(learner("secret")), auth).await;
        dialled.unwrap();
        assert_eq!(accepted.unwrap(), Some((7, b"request".to_vec())));
    }

    #[tokio::test]
    async fn a_wrong_password_is_refused_on_both_sides() {
        let auth = QuorumAuth {
            server: users(),
            ..Default::default()
        };
        let (dialled, accepted) = run(Some(learner("guess")), auth).await;
        assert!(dialled.is_err());
        let e = accepted.unwrap_err();
        assert!(e.to_string().contains("wrong password for learner"), "{e}");
    }

    #[tokio::test]
    async fn a_member_that_does_not_log_in_passes_only_where_not_required() {
        let lenient = QuorumAuth {
            server: users(),
            ..Default::default()
        };
        let (_, accepted) = run(None, lenient).await;
        assert_eq!(accepted.unwrap(), Some((7, b"request".to_vec())));
        let strict = QuorumAuth {
            server: users(),
            server_requires: true,
            ..Default::default()
        };
        let (_, accepted) = run(None, strict).await;
        let e = accepted.unwrap_err();
        assert!(e.to_string().contains("did not log in"), "{e}");
    }

    #[tokio::test]
    async fn a_login_to_a_member_without_quorum_sasl_fails_clearly() {
        let (dialled, accepted) = run(Some(learner("secret")), QuorumAuth::default()).await;
        let e = dialled.unwrap_err();
        assert!(e.to_string().contains("not enabled"), "{e}");
        assert!(accepted.is_err());
    }
}
