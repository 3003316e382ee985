//! Session liveness on the leader: expiry buckets on tickTime, as ZooKeeper's
//! ExpiryQueue keeps them. Touching a session moves it to the bucket of its
//! new deadline; each tick, the expired buckets are handed out for the
//! leader to propose their close. Replicated session data is in `state`.
//! A member's local sessions (`localSessionsEnabled`) live in
//! [`LocalSessions`]: never replicated, expired by that member alone.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::types::SessionId;

/// Milliseconds on the tracker's own clock (the caller supplies `now`).
pub type Millis = u64;

#[derive(Debug, Default)]
pub struct SessionTracker {
    tick: Millis,
    buckets: BTreeMap<Millis, HashSet<SessionId>>,
    sessions: HashMap<SessionId, (Millis, Millis)>, // id -> (timeout, bucket)
}

impl SessionTracker {
    pub fn new(tick_ms: Millis) -> SessionTracker {
        SessionTracker {
            tick: tick_ms.max(1),
            ..Default::default()
        }
    }

    /// Deadlines round up to the next tick, so one tick expires a bucket.
    fn bucket_for(&self, now: Millis, timeout: Millis) -> Millis {
        (now + timeout).div_ceil(self.tick) * self.tick
    }

    fn place(&mut self, id: SessionId, timeout: Millis, now: Millis) {
        let bucket = self.bucket_for(now, timeout);
        if let Some((_, old)) = self.sessions.insert(id, (timeout, bucket)) {
            if old != bucket {
                self.unbucket(id, old);
            }
        }
        self.buckets.entry(bucket).or_default().insert(id);
    }

    fn unbucket(&mut self, id: SessionId, bucket: Millis) {
        if let Some(set) = self.buckets.get_mut(&bucket) {
            set.remove(&id);
            if set.is_empty() {
                self.buckets.remove(&bucket);
            }
        }
    }

    /// Starts tracking (or re-arms) a session with a full timeout from `now`.
    pub fn add(&mut self, id: SessionId, timeout_ms: Millis, now: Millis) {
        self.place(id, timeout_ms, now);
    }

    /// The session was heard from. Returns false if it is not tracked.
    pub fn touch(&mut self, id: SessionId, now: Millis) -> bool {
        match self.sessions.get(&id) {
            Some(&(timeout, _)) => {
                self.place(id, timeout, now);
                true
            }
            None => false,
        }
    }

    pub fn remove(&mut self, id: SessionId) {
        if let Some((_, bucket)) = self.sessions.remove(&id) {
            self.unbucket(id, bucket);
        }
    }

    pub fn contains(&self, id: SessionId) -> bool {
        self.sessions.contains_key(&id)
    }

    /// Sessions whose deadline is at or before `now`; they stay tracked
    /// until `remove` (after their close is applied), but are not returned
    /// again unless touched.
    pub fn take_expired(&mut self, now: Millis) -> Vec<SessionId> {
        let due: Vec<Millis> = self.buckets.range(..=now).map(|(b, _)| *b).collect();
        let mut out = Vec::new();
        for b in due {
            if let Some(set) = self.buckets.remove(&b) {
                out.extend(set);
            }
        }
        out.sort();
        out
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

/// Sessions one member keeps to itself (ZooKeeper's local sessions): no
/// log entry opens or closes them, the member that made them expires them,
/// and a client that moves to another member finds its session gone.
#[derive(Debug)]
pub struct LocalSessions {
    /// id -> (negotiated timeout, password)
    sessions: HashMap<SessionId, (i32, Vec<u8>)>,
    tracker: SessionTracker,
}

impl LocalSessions {
    pub fn new(tick_ms: Millis) -> LocalSessions {
        LocalSessions {
            sessions: HashMap::new(),
            tracker: SessionTracker::new(tick_ms),
        }
    }

    pub fn add(&mut self, id: SessionId, timeout: i32, passwd: Vec<u8>, now: Millis) {
        self.tracker.add(id, timeout.max(0) as Millis, now);
        self.sessions.insert(id, (timeout, passwd));
    }

    /// The session's timeout and password, if it is one of ours.
    pub fn get(&self, id: SessionId) -> Option<(i32, Vec<u8>)> {
        self.sessions.get(&id).cloned()
    }

    /// Forgets a session (closed, or upgraded to a global one).
    pub fn remove(&mut self, id: SessionId) -> bool {
        self.tracker.remove(id);
        self.sessions.remove(&id).is_some()
    }

    /// The session was heard from. Returns false if it is not ours.
    pub fn touch(&mut self, id: SessionId, now: Millis) -> bool {
        self.tracker.touch(id, now)
    }

    /// Sessions past their deadline, forgotten as they are handed out.
    pub fn take_expired(&mut self, now: Millis) -> Vec<SessionId> {
        let due = self.tracker.take_expired(now);
        for id in &due {
            self.remove(*id);
        }
        due
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_sessions_expire_once_and_are_forgotten() {
        let mut l = LocalSessions::new(100);
        l.add(5, 400, vec![1; 16], 0);
        l.add(6, 400, vec![2; 16], 0);
        assert_eq!(l.get(5), Some((400, vec![1; 16])));
        assert!(l.touch(6, 300));
        assert_eq!(l.take_expired(400), vec![5]);
        assert_eq!(l.get(5), None);
        assert!(!l.touch(5, 450));
        assert!(l.remove(6));
        assert!(l.is_empty() && l.take_expired(10_000).is_empty());
    }

    #[test]
    fn expires_after_timeout_unless_touched() {
        let mut t = SessionTracker::new(100);
        t.add(1, 400, 0);
        t.add(2, 400, 0);
        assert!(t.take_expired(399).is_empty());
        t.touch(2, 350);
        assert_eq!(t.take_expired(400), vec![1]);
        // Not handed out twice.
        assert!(t.take_expired(500).is_empty());
        assert_eq!(t.take_expired(800), vec![2]);
        t.remove(1);
        t.remove(2);
        assert!(t.is_empty());
        assert!(!t.touch(1, 900));
    }

    #[test]
    fn deadline_rounds_up_to_tick() {
        let mut t = SessionTracker::new(100);
        t.add(7, 250, 10); // due at 260 -> bucket 300
        assert!(t.take_expired(299).is_empty());
        assert_eq!(t.take_expired(300), vec![7]);
    }
}
