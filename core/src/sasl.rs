//! SASL DIGEST-MD5 (RFC 2831) as ZooKeeper's server speaks it on opcode
//! 102: realm and server name `zk-sasl-md5`, protocol `zookeeper`, users
//! from the `Server` section of a JAAS file (`user_<name>="<password>"`,
//! as ZooKeeper's DigestLoginModule reads it). A connection that completes
//! the exchange is known as `sasl:<name>`.

use std::collections::HashMap;
use std::path::Path;

use md5::{Digest as _, Md5};

use crate::Error;

const REALM: &str = "zk-sasl-md5";
const DIGEST_URI: &str = "zookeeper/zk-sasl-md5";

/// The users a member accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslUsers(HashMap<String, String>);

impl SaslUsers {
    /// The `user_*` options of section `section` of a JAAS file.
    pub fn from_jaas_file(path: &Path, section: &str) -> Result<SaslUsers, Error> {
        let text = read_jaas_file(path)?;
        SaslUsers::from_jaas(&text, section).map_err(|why| jaas_error(path, why))
    }

    /// As `from_jaas_file`, None if the file has no such section (a JAAS
    /// file may hold only other sections, the quorum's say: ZooKeeper then
    /// serves clients without SASL).
    pub fn from_jaas_file_if_there(path: &Path, section: &str) -> Result<Option<SaslUsers>, Error> {
        let text = read_jaas_file(path)?;
        let found = jaas_sections(&text)
            .map_err(|why| jaas_error(path, why))?
            .iter()
            .any(|name| name == section);
        match found {
            true => SaslUsers::from_jaas(&text, section)
                .map(Some)
                .map_err(|why| jaas_error(path, why)),
            false => Ok(None),
        }
    }

    /// Parses JAAS text: `Name { module flag key="value" ...; ... };`.
    pub fn from_jaas(text: &str, section: &str) -> Result<SaslUsers, String> {
        let users = jaas_options(text, section)?
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("user_")?.to_string(), v)))
            .collect();
        Ok(SaslUsers(users))
    }

    fn password(&self, user: &str) -> Option<&str> {
        self.0.get(user).map(String::as_str)
    }
}

fn read_jaas_file(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|e| jaas_error(path, e))
}

fn jaas_error(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Config(format!("{}: {why}", path.display()))
}

/// The names of the sections of JAAS text.
fn jaas_sections(text: &str) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    walk_jaas(&jaas_tokens(text)?, |name, _| names.push(name.to_string()))?;
    Ok(names)
}

/// The `key="value"` options of section `section` of JAAS text, in order.
fn jaas_options(text: &str, section: &str) -> Result<Vec<(String, String)>, String> {
    let mut options = Vec::new();
    let mut found = false;
    walk_jaas(&jaas_tokens(text)?, |name, body| {
        if name == section {
            found = true;
            for w in body.windows(3) {
                if w[1] == "=" {
                    options.push((w[0].clone(), unquote(&w[2])));
                }
            }
        }
    })?;
    if !found {
        return Err(format!("no '{section}' section"));
    }
    Ok(options)
}

/// Calls `each` with every section's name and the tokens between its braces.
fn walk_jaas(tokens: &[String], mut each: impl FnMut(&str, &[String])) -> Result<(), String> {
    let mut i = 0;
    while i < tokens.len() {
        let name = &tokens[i];
        if tokens.get(i + 1).map(String::as_str) != Some("{") {
            return Err(format!("expected '{{' after '{name}'"));
        }
        let end = tokens[i..]
            .iter()
            .position(|t| t == "}")
            .map(|p| p + i)
            .ok_or_else(|| format!("section '{name}' is not closed"))?;
        each(name, &tokens[i + 2..end]);
        i = end + 1;
        if tokens.get(i).map(String::as_str) == Some(";") {
            i += 1;
        }
    }
    Ok(())
}

/// Words, quoted strings and the punctuation `{ } ; =`; `//` and `/* */`
/// comments skipped.
fn jaas_tokens(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
            }
            '{' | '}' | ';' | '=' => out.push(c.to_string()),
            '"' => {
                let mut s = String::from('"');
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => s.extend(chars.next()),
                        Some(c) => s.push(c),
                        None => return Err("unterminated quoted string".into()),
                    }
                }
                out.push(s);
            }
            c => {
                let mut s = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || "{};=\"".contains(n) {
                        break;
                    }
                    s.push(n);
                    chars.next();
                }
                out.push(s);
            }
        }
    }
    Ok(out)
}

fn unquote(t: &str) -> String {
    t.strip_prefix('"').unwrap_or(t).to_string()
}

/// One connection's exchange.
#[derive(Debug, Default)]
pub enum DigestMd5 {
    #[default]
    Start,
    Challenged {
        nonce: String,
    },
    Done,
}

/// What the server answers a client's token with.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this token; the exchange goes on.
    Continue(Vec<u8>),
    /// Send this token; the client is `user`.
    Authenticated { user: String, token: Vec<u8> },
}

impl DigestMd5 {
    /// The next step for the client's `token`. An error is a failed
    /// authentication (wrong password, unknown user, malformed token):
    /// ZooKeeper answers AuthFailed and closes the connection.
    pub fn step(&mut self, users: &SaslUsers, token: &[u8]) -> Result<Step, String> {
        match std::mem::take(self) {
            DigestMd5::Start => {
                let nonce = new_nonce();
                let challenge = format!(
                    "realm=\"{REALM}\",nonce=\"{nonce}\",qop=\"auth\",charset=utf-8,algorithm=md5-sess"
                );
                *self = DigestMd5::Challenged { nonce };
                Ok(Step::Continue(challenge.into_bytes()))
            }
            DigestMd5::Challenged { nonce } => {
                let (user, rspauth) = verify(users, &nonce, token)?;
                *self = DigestMd5::Done;
                Ok(Step::Authenticated {
                    user,
                    token: format!("rspauth={rspauth}").into_bytes(),
                })
            }
            // A client may send a last empty token after rspauth.
            DigestMd5::Done => {
                *self = DigestMd5::Done;
                Ok(Step::Continue(Vec::new()))
            }
        }
    }
}

fn new_nonce() -> String {
    use base64::Engine;
    let bytes: [u8; 24] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Checks a digest-response; returns the authorization id and rspauth.
fn verify(users: &SaslUsers, nonce: &str, token: &[u8]) -> Result<(String, String), String> {
    let text = std::str::from_utf8(token).map_err(|_| "the response is not UTF-8")?;
    let fields = parse_fields(text)?;
    let get = |k: &str| {
        fields
            .get(k)
            .map(String::as_str)
            .ok_or_else(|| format!("no {k} in the response"))
    };
    let user = get("username")?;
    let qop = fields.get("qop").map_or("auth", String::as_str);
    if get("nonce")? != nonce {
        return Err("the response is for another nonce".into());
    }
    if qop != "auth" {
        return Err(format!("qop {qop} is not offered"));
    }
    let uri = get("digest-uri")?;
    if uri != DIGEST_URI {
        return Err(format!("digest-uri {uri} is not {DIGEST_URI}"));
    }
    let realm = fields.get("realm").map_or("", String::as_str);
    let (cnonce, nc) = (get("cnonce")?, get("nc")?);
    let authzid = fields.get("authzid").map(String::as_str);
    let password = users
        .password(user)
        .ok_or_else(|| format!("no user {user}"))?;
    let d = DigestMd5Sum {
        user,
        realm,
        password,
        nonce,
        cnonce,
        nc,
        authzid,
    };
    if !get("response")?.eq_ignore_ascii_case(&d.response()) {
        return Err(format!("wrong password for {user}"));
    }
    Ok((authzid.unwrap_or(user).to_string(), d.rspauth()))
}

/// RFC 2831's computation (qop auth, digest-uri zookeeper/zk-sasl-md5),
/// the same on both sides.
struct DigestMd5Sum<'a> {
    user: &'a str,
    realm: &'a str,
    password: &'a str,
    nonce: &'a str,
    cnonce: &'a str,
    nc: &'a str,
    authzid: Option<&'a str>,
}

impl DigestMd5Sum<'_> {
    fn kd(&self, a2: &str) -> String {
        let (user, realm, password) = (self.user, self.realm, self.password);
        let secret = md5(format!("{user}:{realm}:{password}").as_bytes());
        let mut a1 = secret.to_vec();
        a1.extend_from_slice(format!(":{}:{}", self.nonce, self.cnonce).as_bytes());
        if let Some(z) = self.authzid {
            a1.extend_from_slice(format!(":{z}").as_bytes());
        }
        let (ha1, ha2) = (hex(&md5(&a1)), hex(&md5(a2.as_bytes())));
        let (nonce, nc, cnonce) = (self.nonce, self.nc, self.cnonce);
        hex(&md5(
            format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}").as_bytes()
        ))
    }

    /// The client's `response`.
    fn response(&self) -> String {
        self.kd(&format!("AUTHENTICATE:{DIGEST_URI}"))
    }

    /// The server's `rspauth`.
    fn rspauth(&self) -> String {
        self.kd(&format!(":{DIGEST_URI}"))
    }
}

/// The client's side: answers the server's challenge, then checks its
/// `rspauth` (so a server that does not know the password is caught too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaslClient {
    pub username: String,
    pub password: String,
}

impl SaslClient {
    /// The `username` and `password` of section `section` (ZooKeeper's
    /// `Client`, with DigestLoginModule) of a JAAS file.
    pub fn from_jaas_file(path: &Path, section: &str) -> Result<SaslClient, Error> {
        let fail = |why: String| jaas_error(path, why);
        let text = read_jaas_file(path)?;
        let options = jaas_options(&text, section).map_err(fail)?;
        let get = |key: &str| {
            options
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        match (get("username"), get("password")) {
            (Some(username), Some(password)) => Ok(SaslClient { username, password }),
            _ => Err(fail(format!(
                "section '{section}' has no username and password"
            ))),
        }
    }

    /// The digest-response to `challenge`, and the rspauth to expect.
    pub fn respond(&self, challenge: &[u8]) -> Result<(Vec<u8>, String), String> {
        let text = std::str::from_utf8(challenge).map_err(|_| "the challenge is not UTF-8")?;
        let fields = parse_fields(text)?;
        let nonce = fields.get("nonce").ok_or("no nonce in the challenge")?;
        let offered = fields.get("qop").map_or("auth", String::as_str);
        if !offered.split(',').any(|q| q.trim() == "auth") {
            return Err(format!("the server offers qop {offered}, not auth"));
        }
        let realm = fields.get("realm").map_or(REALM, String::as_str);
        let cnonce = new_nonce();
        let d = DigestMd5Sum {
            user: &self.username,
            realm,
            password: &self.password,
            nonce,
            cnonce: &cnonce,
            nc: "00000001",
            authzid: None,
        };
        let fields = [
            "charset=utf-8".to_string(),
            format!("username={}", quote(&self.username)),
            format!("realm={}", quote(realm)),
            format!("nonce={}", quote(nonce)),
            "nc=00000001".to_string(),
            format!("cnonce={}", quote(&cnonce)),
            format!("digest-uri={}", quote(DIGEST_URI)),
            "maxbuf=65536".to_string(),
            format!("response={}", d.response()),
            "qop=auth".to_string(),
        ];
        Ok((fields.join(",").into_bytes(), d.rspauth()))
    }

    /// Whether the server's last token proves it knows the password.
    pub fn check_rspauth(token: &[u8], expected: &str) -> bool {
        std::str::from_utf8(token)
            .ok()
            .and_then(|t| parse_fields(t).ok())
            .and_then(|f| f.get("rspauth").cloned())
            .is_some_and(|r| r.eq_ignore_ascii_case(expected))
    }
}

/// A quoted-string value, `"` and `\` escaped.
fn quote(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// `key=value` pairs separated by commas; values may be quoted (with `\`
/// escapes).
fn parse_fields(text: &str) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace() || *c == ',') {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let key: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if chars.next() != Some('=') {
            return Err(format!("malformed field '{}'", key.trim()));
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => value.extend(chars.next()),
                    Some(c) => value.push(c),
                    None => return Err("unterminated quoted value".into()),
                }
            }
        } else {
            value.extend(std::iter::from_fn(|| chars.next_if(|c| *c != ',')));
        }
        out.insert(key.trim().to_ascii_lowercase(), value.trim().to_string());
    }
}

fn md5(b: &[u8]) -> [u8; 16] {
    Md5::digest(b).into()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAAS: &str = r#"
// the member's section
Server {
    org.apache.zookeeper.server.auth.DigestLoginModule required
    user_super="super_secret"
    user_jaasuser="jaas_password";
};
Client { org.apache.zookeeper.server.auth.DigestLoginModule required
    username="bob" password="x"; };
"#;

    /// The client side of RFC 2831, as puresasl and Java compute it.
    fn respond(challenge: &[u8], user: &str, password: &str, uri: &str) -> String {
        let fields = parse_fields(std::str::from_utf8(challenge).unwrap()).unwrap();
        let nonce = &fields["nonce"];
        let cnonce = "OA6MHXh6VqTrRk";
        let secret = md5(format!("{user}:{REALM}:{password}").as_bytes());
        let mut a1 = secret.to_vec();
        a1.extend_from_slice(format!(":{nonce}:{cnonce}").as_bytes());
        let ha1 = hex(&md5(&a1));
        let ha2 = hex(&md5(format!("AUTHENTICATE:{uri}").as_bytes()));
        let response = hex(&md5(
            format!("{ha1}:{nonce}:00000001:{cnonce}:auth:{ha2}").as_bytes()
        ));
        format!(
            "charset=utf-8,username=\"{user}\",realm=\"{REALM}\",nonce=\"{nonce}\",nc=00000001,\
             cnonce=\"{cnonce}\",digest-uri=\"{uri}\",maxbuf=65536,response={response},qop=auth"
        )
    }

    #[test]
    fn jaas_server_section_users() {
        let users = SaslUsers::from_jaas(JAAS, "Server").unwrap();
        assert_eq!(users.password("jaasuser"), Some("jaas_password"));
        assert_eq!(users.password("super"), Some("super_secret"));
        assert_eq!(users.password("bob"), None);
        assert!(SaslUsers::from_jaas(JAAS, "Other").is_err());
        assert!(SaslUsers::from_jaas("Server { a b user_x=\"y\";", "Server").is_err());
        assert!(SaslUsers::from_jaas("Server { user_x=\"y", "Server").is_err());
    }

    #[test]
    fn exchange_succeeds_with_the_password_and_fails_without() {
        let users = SaslUsers::from_jaas(JAAS, "Server").unwrap();
        let mut s = DigestMd5::default();
        let Step::Continue(challenge) = s.step(&users, b"").unwrap() else {
            panic!("no challenge");
        };
        let resp = respond(&challenge, "jaasuser", "jaas_password", DIGEST_URI);
        let Step::Authenticated { user, token } = s.step(&users, resp.as_bytes()).unwrap() else {
            panic!("not authenticated");
        };
        assert_eq!(user, "jaasuser");
        assert!(token.starts_with(b"rspauth="));
        assert_eq!(s.step(&users, b"").unwrap(), Step::Continue(Vec::new()));

        let bad = [
            ("jaasuser", "wrong", DIGEST_URI),
            ("nobody", "x", DIGEST_URI),
            ("jaasuser", "jaas_password", "zookeeper/elsewhere"),
        ];
        for (user, pw, uri) in bad {
            let mut s = DigestMd5::default();
            let Step::Continue(challenge) = s.step(&users, b"").unwrap() else {
                panic!("no challenge");
            };
            let resp = respond(&challenge, user, pw, uri);
            assert!(
                s.step(&users, resp.as_bytes()).is_err(),
                "{user} {pw} {uri}"
            );
        }
        for garbage in [&b"\xff\xfe"[..], b"username", b"username=\"x", b"a=b"] {
            let mut s = DigestMd5::default();
            s.step(&users, b"").unwrap();
            assert!(s.step(&users, garbage).is_err());
        }
    }
}
