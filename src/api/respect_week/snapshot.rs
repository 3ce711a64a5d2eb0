//! The public programme (its first JSON page without parameters, and the calendar
//! feed) served from a snapshot per edition: the bytes and their `ETag`, made once
//! and kept while no registration has been written. A repeat, and a `304`, then
//! cost no store read and no serialisation.
//!
//! A snapshot is checked against the store's count of registration writes in this
//! process, so here it is never stale. Writes from elsewhere (on AWS, the `admin`
//! function publishes what the `respect_week` function shows) are seen when the
//! snapshot is [`FRESH_SECONDS`] old at most, well within the `max-age=60` every
//! public document already carries.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::body::Bytes;
use chrono::{DateTime, Duration, Utc};

/// The longest a snapshot is served without looking at the store again.
pub const FRESH_SECONDS: i64 = 10;

/// Which document of an edition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Feed {
    Json,
    Calendar,
}

#[derive(Debug, Clone)]
struct Snapshot {
    writes: u64,
    made_at: DateTime<Utc>,
    etag: String,
    body: Bytes,
}

#[derive(Debug, Default)]
pub struct Snapshots {
    cells: Mutex<HashMap<(i32, Feed), Snapshot>>,
}

impl Snapshots {
    /// The snapshot of `year`'s `feed` if it was made after the last of `writes`
    /// and is still fresh at `now`: its `ETag` and bytes.
    pub fn get(
        &self,
        year: i32,
        feed: Feed,
        writes: u64,
        now: DateTime<Utc>,
    ) -> Option<(String, Bytes)> {
        let cells = self.cells.lock().ok()?;
        let snapshot = cells.get(&(year, feed))?;
        (snapshot.writes == writes && now - snapshot.made_at < Duration::seconds(FRESH_SECONDS))
            .then(|| (snapshot.etag.clone(), snapshot.body.clone()))
    }

    /// Keeps `body` as `year`'s `feed`, made when the store had seen `writes`.
    pub fn put(
        &self,
        year: i32,
        feed: Feed,
        writes: u64,
        now: DateTime<Utc>,
        etag: String,
        body: Bytes,
    ) {
        if let Ok(mut cells) = self.cells.lock() {
            cells.insert(
                (year, feed),
                Snapshot {
                    writes,
                    made_at: now,
                    etag,
                    body,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_holds_until_a_write_or_for_ten_seconds() {
        let t0: DateTime<Utc> = "2017-10-02T08:00:00Z".parse().unwrap();
        let snapshots = Snapshots::default();
        assert!(snapshots.get(2017, Feed::Json, 0, t0).is_none());
        snapshots.put(
            2017,
            Feed::Json,
            3,
            t0,
            "\"e\"".into(),
            Bytes::from_static(b"[]"),
        );
        assert_eq!(
            snapshots.get(2017, Feed::Json, 3, t0 + Duration::seconds(9)),
            Some(("\"e\"".to_string(), Bytes::from_static(b"[]")))
        );
        assert!(
            snapshots.get(2017, Feed::Json, 4, t0).is_none(),
            "a write since"
        );
        assert!(
            snapshots
                .get(2017, Feed::Json, 3, t0 + Duration::seconds(10))
                .is_none(),
            "too old"
        );
        assert!(
            snapshots.get(2017, Feed::Calendar, 3, t0).is_none(),
            "another feed"
        );
        assert!(
            snapshots.get(2018, Feed::Json, 3, t0).is_none(),
            "another edition"
        );
    }
}
