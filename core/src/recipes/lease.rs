//! Leases that never block (kazoo `NonBlockingLease`,
//! `MultiNonBlockingLease`, same layout): under the [`Lock`] at `path`,
//! `<path>/lease_holder` is read and, if free, expired or ours, rewritten
//! as JSON `{"version": 1, "holder": id, "end": "YYYY-MM-DDTHH:MM:SS"}`
//! (UTC, the clients' clocks: they must roughly agree). Renewing is
//! obtaining again with the same identifier.

use std::time::Duration;

use chrono::{NaiveDateTime, TimeDelta};
use serde::{Deserialize, Serialize};

use super::{join, retrying, Lock, OPEN};
use crate::client::Client;
use crate::types::CreateMode;
use crate::Error;

const VERSION: i64 = 1;
const DATE: &str = "%Y-%m-%dT%H:%M:%S";

#[derive(Serialize, Deserialize)]
struct Holder {
    version: i64,
    holder: String,
    end: String,
}

/// This machine's clock in UTC, the `now` kazoo's leases read.
pub fn utc_now() -> NaiveDateTime {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::from_timestamp(since.as_secs() as i64, since.subsec_nanos())
        .unwrap_or_default()
        .naive_utc()
}

/// Tries once to take or renew the lease at `path` for `duration` from
/// `now` (UTC, the caller's clock); true if `identifier` holds it now.
pub async fn obtain_lease(
    client: &Client,
    path: &str,
    duration: Duration,
    identifier: &str,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let c = client;
    retrying(c, || c.ensure_path(path, &OPEN)).await?;
    let lock = Lock::new(c, path, identifier.as_bytes());
    if !lock.acquire(None).await? {
        return Ok(false);
    }
    let got = write_holder(c, path, duration, identifier, now).await;
    lock.release().await?;
    got
}

/// Tries `<path>/0` .. `<path>/<count - 1>` in turn; true once one is ours.
pub async fn obtain_one_of(
    client: &Client,
    count: usize,
    path: &str,
    duration: Duration,
    identifier: &str,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    for n in 0..count {
        if obtain_lease(
            client,
            &join(path, &n.to_string()),
            duration,
            identifier,
            now,
        )
        .await?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

async fn write_holder(
    c: &Client,
    path: &str,
    duration: Duration,
    identifier: &str,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let holder_path = join(path, "lease_holder");
    match retrying(c, || c.get_data(&holder_path, None)).await {
        Ok((raw, _)) => {
            let Ok(held) = serde_json::from_slice::<Holder>(&raw) else {
                return Ok(false); // not a lease we understand: leave it
            };
            let Ok(end) = NaiveDateTime::parse_from_str(&held.end, DATE) else {
                return Ok(false);
            };
            if held.version != VERSION || (held.holder != identifier && now < end) {
                return Ok(false);
            }
            match retrying(c, || c.delete(&holder_path, -1)).await {
                Ok(()) | Err(Error::NoNode) => {}
                Err(e) => return Err(e),
            }
        }
        Err(Error::NoNode) => {}
        Err(e) => return Err(e),
    }
    let span = TimeDelta::from_std(duration).map_err(|_| Error::BadArguments)?;
    let end = now.checked_add_signed(span).ok_or(Error::BadArguments)?;
    let data = Holder {
        version: VERSION,
        holder: identifier.to_string(),
        end: end.format(DATE).to_string(),
    };
    let bytes = serde_json::to_vec(&data).map_err(|_| Error::MarshallingError)?;
    let mode = CreateMode::Persistent;
    retrying(c, || c.create(&holder_path, &bytes, &OPEN, mode)).await?;
    Ok(true)
}
