//! A shared number in one znode (kazoo `Counter`), changed by
//! compare-and-set on the node's version. Stored as decimal text (kazoo's
//! format, an integer or a float) or, for Curator's `SharedCount`, as a
//! 4-byte big-endian integer.

use super::{retrying, OPEN};
use crate::client::Client;
use crate::types::CreateMode;
use crate::Error;

/// A counter's value: an integer, or a float for a float counter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// How a counter's value is stored in its znode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterFormat {
    /// Decimal text, as kazoo writes it ("3", "2.5").
    Text,
    /// Curator's `SharedCount`: a 4-byte big-endian signed integer.
    Curator,
}

pub struct Counter {
    client: Client,
    path: String,
    default: Number,
    format: CounterFormat,
}

impl Counter {
    /// An integer counter at `path` in kazoo's text format; it reads
    /// `default` until first changed.
    pub fn new(client: &Client, path: &str, default: i64) -> Counter {
        Counter {
            client: client.clone(),
            path: path.to_string(),
            default: Number::Int(default),
            format: CounterFormat::Text,
        }
    }

    /// A counter of `default`'s kind in `format`; a float counter cannot
    /// be kept in Curator's integer format (BadArguments).
    pub fn with_format(
        client: &Client,
        path: &str,
        default: Number,
        format: CounterFormat,
    ) -> Result<Counter, Error> {
        if let (Number::Float(_), CounterFormat::Curator) = (default, format) {
            return Err(Error::BadArguments);
        }
        let mut c = Counter::new(client, path, 0);
        c.default = default;
        c.format = format;
        Ok(c)
    }

    /// The value as an integer (a float counter's is truncated).
    /// Whether the counter counts in floats (its default's kind): deltas
    /// must be of this kind.
    pub fn holds_floats(&self) -> bool {
        matches!(self.default, Number::Float(_))
    }

    pub async fn value(&self) -> Result<i64, Error> {
        self.number().await.map(as_int)
    }

    pub async fn number(&self) -> Result<Number, Error> {
        let c = &self.client;
        match retrying(c, || c.get_data(&self.path, None)).await {
            Ok((data, _)) => self.parse(&data),
            Err(Error::NoNode) => Ok(self.default),
            Err(e) => Err(e),
        }
    }

    /// Adds `delta` atomically and returns the new value.
    pub async fn add(&self, delta: i64) -> Result<i64, Error> {
        let (_, after) = self.add_number(Number::Int(delta)).await?;
        Ok(as_int(after))
    }

    /// Adds `delta` (of the counter's kind: BadArguments otherwise)
    /// atomically and returns the values before and after (kazoo's
    /// `pre_value`, `post_value`). A lost reply is not retried
    /// blindly: the add may have happened, so the caller gets
    /// `ConnectionLoss` (ZooKeeper's unknown outcome) only from the write
    /// itself, never a double add.
    pub async fn add_number(&self, delta: Number) -> Result<(Number, Number), Error> {
        let c = &self.client;
        loop {
            match retrying(c, || c.get_data(&self.path, None)).await {
                Ok((data, stat)) => {
                    let before = self.parse(&data)?;
                    let next = sum(before, delta)?;
                    let bytes = self.encode(next)?;
                    match c.set_data(&self.path, &bytes, stat.version).await {
                        Ok(_) => return Ok((before, next)),
                        Err(Error::BadVersion) => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(Error::NoNode) => {
                    let next = sum(self.default, delta)?;
                    let bytes = self.encode(next)?;
                    if let Some(parent) = parent(&self.path) {
                        retrying(c, || c.ensure_path(parent, &OPEN)).await?;
                    }
                    let mode = CreateMode::Persistent;
                    match c.create(&self.path, &bytes, &OPEN, mode).await {
                        Ok(_) => return Ok((self.default, next)),
                        Err(Error::NodeExists) => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn parse(&self, data: &[u8]) -> Result<Number, Error> {
        if self.format == CounterFormat::Curator {
            let bytes: [u8; 4] = match data.len() {
                0 => return Ok(self.default),
                _ => data.try_into().map_err(|_| Error::BadArguments)?,
            };
            return Ok(Number::Int(i32::from_be_bytes(bytes).into()));
        }
        let text = std::str::from_utf8(data)
            .map_err(|_| Error::BadArguments)?
            .trim();
        if text.is_empty() {
            return Ok(self.default);
        }
        let parsed = match self.default {
            Number::Int(_) => text.parse().map(Number::Int).ok(),
            Number::Float(_) => text.parse().map(Number::Float).ok(),
        };
        parsed.ok_or(Error::BadArguments)
    }

    fn encode(&self, n: Number) -> Result<Vec<u8>, Error> {
        match (self.format, n) {
            (CounterFormat::Curator, Number::Int(i)) => i32::try_from(i)
                .map(|i| i.to_be_bytes().to_vec())
                .map_err(|_| Error::BadArguments),
            (CounterFormat::Curator, Number::Float(_)) => Err(Error::BadArguments),
            (CounterFormat::Text, Number::Int(i)) => Ok(i.to_string().into_bytes()),
            // Debug keeps the decimal point ("-1.0"), as Python's repr does.
            (CounterFormat::Text, Number::Float(f)) => Ok(format!("{f:?}").into_bytes()),
        }
    }
}

/// `a + b` for numbers of one kind; BadArguments for mixed kinds or an
/// integer overflow.
fn sum(a: Number, b: Number) -> Result<Number, Error> {
    match (a, b) {
        (Number::Int(x), Number::Int(y)) => {
            x.checked_add(y).map(Number::Int).ok_or(Error::BadArguments)
        }
        (Number::Float(x), Number::Float(y)) => Ok(Number::Float(x + y)),
        _ => Err(Error::BadArguments),
    }
}

fn as_int(n: Number) -> i64 {
    match n {
        Number::Int(i) => i,
        Number::Float(f) => f as i64,
    }
}

fn parent(path: &str) -> Option<&str> {
    match path.rfind('/') {
        Some(0) | None => None,
        Some(i) => Some(&path[..i]),
    }
}
