//! Timestamps: parsing what Connect sends, writing what the lake stores.
//!
//! Connect writes `YYYY-MM-DDThh:mm:ssZ` in contact records and adds milliseconds in agent events.
//! The lake stores `YYYY-MM-DD HH:MM:SS.mmm` in UTC, the form Hive, Athena and Firehose's Parquet
//! conversion read by default (`java.sql.Timestamp::valueOf`).

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// Parses an RFC 3339 timestamp (`Z` or an offset, optional fraction). `None` when unusable.
pub fn parse_rfc3339(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    if let Some(t) = parse_connect_utc(s.as_bytes()) {
        return Some(t);
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(|t| t.to_offset(UtcOffset::UTC))
}

/// The fast path for what Connect writes: `YYYY-MM-DDThh:mm:ssZ` or `YYYY-MM-DDThh:mm:ss.fffZ`.
/// Anything else (offsets, other fractions) returns `None` and takes the general parser.
fn parse_connect_utc(b: &[u8]) -> Option<OffsetDateTime> {
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let millis = match b.len() {
        20 if b[19] == b'Z' => 0,
        24 if b[19] == b'.' && b[23] == b'Z' => num(20..23)?,
        _ => return None,
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = i32::try_from(num(0..4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(num(8..10)?).ok()?).ok()?;
    let hms = |r| num(r).and_then(|v| u8::try_from(v).ok());
    let t = time::Time::from_hms_milli(hms(11..13)?, hms(14..16)?, hms(17..19)?, u16::try_from(millis).ok()?).ok()?;
    Some(PrimitiveDateTime::new(date, t).assume_utc())
}

/// An instant that serializes as the lake's timestamp string without a heap allocation: rows
/// carry a dozen of them, and the Firehose transform writes thousands of rows per invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HiveTimestamp(pub OffsetDateTime);

impl HiveTimestamp {
    /// The 23 bytes `YYYY-MM-DD HH:MM:SS.mmm` (UTC), for years 0..=9999; `None` outside them.
    fn bytes(self) -> Option<[u8; 23]> {
        let t = self.0.to_offset(UtcOffset::UTC);
        let year = u32::try_from(t.year()).ok().filter(|y| *y <= 9999)?;
        let mut b = *b"0000-00-00 00:00:00.000";
        let mut put = |at: usize, v: u32, width: usize| {
            let mut v = v;
            for i in (0..width).rev() {
                b[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, year, 4);
        put(5, u32::from(u8::from(t.month())), 2);
        put(8, u32::from(t.day()), 2);
        put(11, u32::from(t.hour()), 2);
        put(14, u32::from(t.minute()), 2);
        put(17, u32::from(t.second()), 2);
        put(20, u32::from(t.millisecond()), 3);
        Some(b)
    }
}

impl serde::Serialize for HiveTimestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.bytes() {
            // The buffer holds ASCII digits and separators only.
            Some(b) => serializer.serialize_str(std::str::from_utf8(&b).unwrap_or_default()),
            None => serializer.serialize_str(&to_hive_timestamp(self.0)),
        }
    }
}

/// Formats an instant as the lake's timestamp string, `YYYY-MM-DD HH:MM:SS.mmm`, in UTC.
pub fn to_hive_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    let mut out = String::with_capacity(23);
    push_hive_timestamp(&mut out, t);
    out
}

fn push_hive_timestamp(out: &mut String, t: OffsetDateTime) {
    // By hand rather than `write!`: this runs a dozen times per contact record.
    let digits = |out: &mut String, v: u32, width: u32| {
        for p in (0..width).rev() {
            out.push(char::from(b'0' + ((v / 10u32.pow(p)) % 10) as u8));
        }
    };
    let year = t.year();
    if (0..=9999).contains(&year) {
        digits(out, year.unsigned_abs(), 4);
    } else {
        out.push_str(&format!("{year:04}"));
    }
    out.push('-');
    digits(out, u32::from(u8::from(t.month())), 2);
    out.push('-');
    digits(out, u32::from(t.day()), 2);
    out.push(' ');
    digits(out, u32::from(t.hour()), 2);
    out.push(':');
    digits(out, u32::from(t.minute()), 2);
    out.push(':');
    digits(out, u32::from(t.second()), 2);
    out.push('.');
    digits(out, u32::from(t.millisecond()), 3);
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
    fn fast_path_agrees_with_the_general_parser() {
        for s in [
            "2019-08-13T20:33:23Z",
            "2024-02-29T23:59:59.999Z",
            "2026-12-31T00:00:00.000Z",
            "0001-01-01T00:00:00Z",
        ] {
            let general = OffsetDateTime::parse(s, &Rfc3339).unwrap();
            assert_eq!(parse_connect_utc(s.as_bytes()), Some(general), "{s}");
        }
        for s in [
            "2025-02-29T10:00:00Z",
            "2019-08-13T24:00:00Z",
            "2019-08-13T20:60:00Z",
            "2019-08-13t20:33:23Z",
            "2019-08-13T20:33:23.5Z",
        ] {
            assert_eq!(parse_connect_utc(s.as_bytes()), None, "{s}");
        }
        assert!(
            parse_rfc3339("2019-08-13T20:33:23.5Z").is_some(),
            "other fractions take the general parser"
        );
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
    fn hive_timestamp_values_serialize_like_the_string_form() {
        for s in [
            "2019-08-13T20:33:23Z",
            "2024-02-29T23:59:59.999Z",
            "0001-01-01T00:00:00Z",
            "2026-01-01T01:30:00+02:00",
        ] {
            let t = parse_rfc3339(s).unwrap();
            assert_eq!(
                serde_json::to_value(HiveTimestamp(t)).unwrap(),
                serde_json::Value::String(to_hive_timestamp(t))
            );
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
