//! Timestamps: parsing what Connect sends, writing what the lake stores.
//!
//! Connect writes `YYYY-MM-DDThh:mm:ssZ` in contact records and adds milliseconds in agent events.
//! The lake stores `YYYY-MM-DD HH:MM:SS.mmm` in UTC, the form Hive, Athena and Firehose's Parquet
//! conversion read by default (`java.sql.Timestamp::valueOf`).

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Parses an RFC 3339 timestamp (`Z` or an offset, optional fraction). `None` when unusable.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .ok()
        .map(|t| t.to_offset(UtcOffset::UTC))
}

/// Formats an instant as the lake's timestamp string, `YYYY-MM-DD HH:MM:SS.mmm`, in UTC.
pub fn to_hive_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let mut out = String::with_capacity(23);
    push_hive_timestamp(&mut out, t);
    out
}

fn push_hive_timestamp(out: &mut String, t: OffsetDateTime) {
    use std::fmt::Write;
    // Writing into a String cannot fail.
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    );
}

/// Parses the lake's own timestamp form back (used by schema checks and the demo's summary).
pub fn parse_hive_timestamp(s: &str) -> Option<OffsetDateTime> {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");
    PrimitiveDateTime::parse(s, &fmt).ok().map(|p| p.assume_utc())
}

/// An epoch-millisecond instant, when it is within the range `time` can represent.
pub fn from_epoch_millis(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_timestamps_normalize_to_utc_millis() {
        let t = parse_rfc3339("2019-08-13T20:33:23Z").unwrap();
        assert_eq!(to_hive_timestamp(t), "2019-08-13 20:33:23.000");
        let t = parse_rfc3339("2019-05-25T18:43:59.049Z").unwrap();
        assert_eq!(to_hive_timestamp(t), "2019-05-25 18:43:59.049");
        let t = parse_rfc3339("2026-01-01T01:30:00+02:00").unwrap();
        assert_eq!(to_hive_timestamp(t), "2025-12-31 23:30:00.000");
    }

    #[test]
    fn unusable_timestamps_are_none() {
        for bad in [
            "",
            "yesterday",
            "2019-13-13T20:33:23Z",
            "2019-08-13 20:33:23",
            "2019-08-13T25:00:00Z",
            "1565728403",
        ] {
            assert!(parse_rfc3339(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn hive_timestamps_round_trip() {
        let t = parse_rfc3339("2024-02-29T23:59:59.999Z").unwrap();
        assert_eq!(parse_hive_timestamp(&to_hive_timestamp(t)), Some(t));
    }

    #[test]
    fn epoch_millis_outside_the_calendar_are_none() {
        assert!(from_epoch_millis(i64::MAX).is_none());
        assert_eq!(
            to_hive_timestamp(from_epoch_millis(1_565_728_403_123).unwrap()),
            "2019-08-13 20:33:23.123"
        );
    }
}
