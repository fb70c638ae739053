//! Object keys in, object keys out: which input an S3 object is, whose contact it belongs to and
//! when, and where the function writes.
//!
//! Connect names its objects after the contact: recordings
//! `<prefix>/CallRecordings/YYYY/MM/DD/<contactId>_<YYYYMMDD>T<HH:MM>_UTC.wav`, Contact Lens files
//! `.../Analysis/Voice/YYYY/MM/DD/<contactId>_analysis_<YYYY-MM-DDTHH:MM:SSZ>.json` (redacted
//! copies under `Analysis/Voice/Redacted/`). The function names Transcribe's output the same way,
//! `<TRANSCRIPTS_PREFIX><contactId>_<YYYYMMDD>T<HHMM>Z.json`, so every input carries its contact
//! id and time in its key.

use connect_lake::schema::PartitionValues;
use time::{Date, Month, OffsetDateTime, Time};

/// Prefix of the Transcribe job names this function starts; the rest is the contact id.
pub const JOB_NAME_PREFIX: &str = "connect-lake-";

/// The file-name prefix of a Transcribe transcript with PII redacted.
const REDACTED_FILE_PREFIX: &str = "redacted-";

/// What an object is to this function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    Recording,
    Transcript,
    ContactLens,
    /// A Contact Lens analysis file from `Analysis/<Voice|Chat>/Redacted/`: processed only when
    /// the original (unredacted) file does not exist, as on an instance that keeps redacted
    /// output only.
    ContactLensRedacted,
}

/// Why an object is not processed. The codes are metric dimensions and log fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    /// `s3:TestEvent`, sent when a notification is configured.
    TestEvent,
    /// A removal or other non-creation event.
    NotCreated,
    FolderMarker,
    /// Transcribe's `.write_access_check_file.temp`.
    WriteAccessProbe,
    /// A Contact Lens `Redacted/` copy whose original exists (the original is processed instead),
    /// or a redacted file that is not an analysis file (the redacted audio).
    RedactedCopy,
    /// A call recording of a contact that Contact Lens analyses (its contact record says so),
    /// with `ENRICH_SKIP_WHEN_CONTACT_LENS` on: transcribing it again would pay twice.
    ContactLensAnalyses,
    /// Not a recording, transcript or Contact Lens file under the configured prefixes.
    NotAnInput,
    /// A recording whose key names no contact.
    NoContactId,
    /// Deleted before it could be read.
    ObjectGone,
}

impl SkipReason {
    pub const fn code(self) -> &'static str {
        match self {
            SkipReason::TestEvent => "test_event",
            SkipReason::NotCreated => "not_created",
            SkipReason::FolderMarker => "folder_marker",
            SkipReason::WriteAccessProbe => "write_access_probe",
            SkipReason::RedactedCopy => "redacted_copy",
            SkipReason::ContactLensAnalyses => "contact_lens_analyses",
            SkipReason::NotAnInput => "not_an_input",
            SkipReason::NoContactId => "no_contact_id",
            SkipReason::ObjectGone => "object_gone",
        }
    }
}

/// The configured prefixes, with a trailing `/` unless empty (the whole bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefixes {
    pub recordings: String,
    pub transcripts: String,
}

/// `connect` → `connect/`; empty stays empty; a leading `/` is dropped (keys have none).
pub fn normalize_prefix(prefix: &str) -> String {
    let p = prefix.trim().trim_start_matches('/');
    if p.is_empty() || p.ends_with('/') {
        p.to_owned()
    } else {
        format!("{p}/")
    }
}

fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

fn has_extension(key: &str, ext: &str) -> bool {
    file_name(key)
        .rsplit_once('.')
        .is_some_and(|(stem, e)| !stem.is_empty() && e.eq_ignore_ascii_case(ext))
}

/// `Analysis/Voice/` or `Analysis/Chat/` at the start of the key or after a `/`.
fn is_contact_lens_path(key: &str) -> bool {
    ["Analysis/Voice/", "Analysis/Chat/"]
        .iter()
        .any(|marker| key.starts_with(marker) || key.contains(&format!("/{marker}")))
}

/// Decides what an object is from its key (already decoded).
///
/// # Errors
/// The [`SkipReason`] when the object is not an input.
pub fn classify(key: &str, prefixes: &Prefixes) -> Result<ObjectKind, SkipReason> {
    if file_name(key) == ".write_access_check_file.temp" {
        return Err(SkipReason::WriteAccessProbe);
    }
    if key.is_empty() || key.ends_with('/') || key.ends_with("_$folder$") {
        return Err(SkipReason::FolderMarker);
    }
    if key.split('/').any(|segment| segment == "Redacted") {
        return if has_extension(key, "json") && original_analysis_prefix(key).is_some() {
            Ok(ObjectKind::ContactLensRedacted)
        } else {
            Err(SkipReason::RedactedCopy)
        };
    }
    if is_contact_lens_path(key) {
        return if has_extension(key, "json") {
            Ok(ObjectKind::ContactLens)
        } else {
            Err(SkipReason::NotAnInput)
        };
    }
    if key.starts_with(&prefixes.transcripts) && has_extension(key, "json") {
        return Ok(ObjectKind::Transcript);
    }
    if key.starts_with(&prefixes.recordings) && has_extension(key, "wav") {
        return Ok(ObjectKind::Recording);
    }
    Err(SkipReason::NotAnInput)
}

/// Where the original of a redacted Contact Lens analysis file would be: for
/// `.../Analysis/Voice/Redacted/YYYY/MM/DD/<contactId>_analysis_redacted_<time>.json`, the key
/// prefix `.../Analysis/Voice/YYYY/MM/DD/<contactId>_analysis_` ("Output file locations for files
/// analyzed by Contact Lens", admin guide: both carry the same date and time). `None` when the
/// key is not shaped like a redacted analysis file.
pub fn original_analysis_prefix(key: &str) -> Option<String> {
    let mut segments: Vec<&str> = key.split('/').collect();
    let at = segments.iter().position(|s| *s == "Redacted")?;
    let channel = at.checked_sub(1).and_then(|i| segments.get(i))?;
    let analysis = at.checked_sub(2).and_then(|i| segments.get(i))?;
    if *analysis != "Analysis" || !matches!(*channel, "Voice" | "Chat") {
        return None;
    }
    let name = segments.pop()?;
    let contact_id = name.split_once("_analysis_redacted_").map(|(id, _)| id)?;
    if !is_contact_id(contact_id) {
        return None;
    }
    segments.remove(at);
    Some(format!("{}/{contact_id}_analysis_", segments.join("/")))
}

/// A Connect contact id: a UUID in practice; letters, digits and `-`, at most 128 characters.
pub fn is_contact_id(s: &str) -> bool {
    (1..=128).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The contact id a key's file name starts with (`<contactId>_...`, or a job name of ours). A
/// `redacted-` prefix, which Transcribe may put on the file of a job with PII redaction, is skipped.
pub fn contact_id_from_key(key: &str) -> Option<&str> {
    let name = file_name(key);
    let name = name.strip_prefix(REDACTED_FILE_PREFIX).unwrap_or(name);
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    let stem = stem.strip_prefix(JOB_NAME_PREFIX).unwrap_or(stem);
    let id = stem.split('_').next().unwrap_or(stem);
    is_contact_id(id).then_some(id)
}

/// The contact id in a Transcribe job name of ours.
pub fn contact_id_from_job_name(job: &str) -> Option<&str> {
    job.strip_prefix(JOB_NAME_PREFIX).filter(|id| is_contact_id(id))
}

/// The Transcribe job name of a contact: one job per contact, so a replay is a conflict.
pub fn job_name(contact_id: &str) -> String {
    format!("{JOB_NAME_PREFIX}{contact_id}")
}

/// Where Transcribe writes a contact's transcript: the contact id and time in the file name, in
/// characters Transcribe accepts in `OutputKey` (no `:`).
pub fn transcript_key(prefix: &str, contact_id: &str, at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{prefix}{contact_id}_{:04}{:02}{:02}T{:02}{:02}Z.json",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// Where a contact's rows of one table go: one object per contact and source kind, so a replay
/// overwrites it.
pub fn output_key(table: &str, partition: &PartitionValues, contact_id: &str, source_kind: &str) -> String {
    format!("{}{contact_id}_{source_kind}.json", partition.prefix(table))
}

/// How the contact's time was found, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// A timestamp in the file name.
    Key,
    /// A `YYYY/MM/DD/` date in the key's path (hour 00).
    KeyDate,
    /// The event's time: when the object was written.
    EventTime,
    /// The time of processing: no other time was available.
    ProcessingTime,
}

impl TimeSource {
    pub const fn code(self) -> &'static str {
        match self {
            TimeSource::Key => "key",
            TimeSource::KeyDate => "key_date",
            TimeSource::EventTime => "event_time",
            TimeSource::ProcessingTime => "processing_time",
        }
    }
}

/// The contact's time for partitioning: from the key if it has one, else the event, else now.
pub fn contact_time(key: &str, event_time: Option<&str>, now: OffsetDateTime) -> (OffsetDateTime, TimeSource) {
    if let Some(t) = time_in_name(file_name(key)) {
        return (t, TimeSource::Key);
    }
    if let Some(t) = date_in_path(key) {
        return (t, TimeSource::KeyDate);
    }
    if let Some(t) = event_time.and_then(connect_lake::time_fmt::parse_rfc3339) {
        return (t, TimeSource::EventTime);
    }
    (now, TimeSource::ProcessingTime)
}

fn digits(s: &[u8], at: usize, n: usize) -> Option<u32> {
    let part = s.get(at..at + n)?;
    part.iter().try_fold(0u32, |acc, b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

fn utc(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<OffsetDateTime> {
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date = Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    Some(date.with_time(time).assume_utc())
}

/// A timestamp inside a file name: `2026-03-08T10:15:42Z` (Contact Lens), `20260308T10:15_UTC`
/// (Connect recordings) or `20260308T1015Z` / `20260308T101542Z` (this function's transcripts).
pub fn time_in_name(name: &str) -> Option<OffsetDateTime> {
    let b = name.as_bytes();
    (0..b.len())
        .filter(|&i| b[i].is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()))
        .find_map(|i| extended_stamp(name, i).or_else(|| compact_stamp(b, i)))
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` starting at `i`.
fn extended_stamp(name: &str, i: usize) -> Option<OffsetDateTime> {
    let rest = name.get(i..)?;
    let b = rest.as_bytes();
    if b.get(4) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    let z = rest.get(..40.min(rest.len()))?.find('Z')?;
    connect_lake::time_fmt::parse_rfc3339(rest.get(..=z)?)
}

/// `YYYYMMDDTHH[:]MM[SS]` followed by `Z` or `_UTC`, starting at `i`.
fn compact_stamp(b: &[u8], i: usize) -> Option<OffsetDateTime> {
    let (y, mo, d) = (digits(b, i, 4)?, digits(b, i + 4, 2)?, digits(b, i + 6, 2)?);
    if b.get(i + 8) != Some(&b'T') {
        return None;
    }
    let h = digits(b, i + 9, 2)?;
    let mut at = i + 11;
    if b.get(at) == Some(&b':') {
        at += 1;
    }
    let mi = digits(b, at, 2)?;
    at += 2;
    let s = match digits(b, at, 2) {
        Some(s) => {
            at += 2;
            s
        }
        None => 0,
    };
    let terminated = b.get(at) == Some(&b'Z') || b.get(at..at + 4) == Some(b"_UTC".as_slice());
    if !terminated {
        return None;
    }
    utc(y, mo, d, h, mi, s)
}

/// A `.../YYYY/MM/DD/...` date in the key's folders, at midnight UTC.
fn date_in_path(key: &str) -> Option<OffsetDateTime> {
    let parts: Vec<&str> = key.split('/').collect();
    let folders = parts.len().checked_sub(1)?;
    (0..folders.saturating_sub(2)).find_map(|i| {
        let (y, m, d) = (parts[i], parts[i + 1], parts[i + 2]);
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return None;
        }
        utc(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?, 0, 0, 0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn prefixes() -> Prefixes {
        Prefixes {
            recordings: "connect/".into(),
            transcripts: "transcripts/".into(),
        }
    }

    #[test]
    fn objects_are_classified_by_key() {
        let p = prefixes();
        let cid = "5b4a0e4c-6b2e-4d4f-9a57-0f3c2d1e9b10";
        for (key, want) in [
            (
                format!("connect/acme/CallRecordings/2026/03/08/{cid}_20260308T10:15_UTC.wav"),
                Ok(ObjectKind::Recording),
            ),
            (
                format!("connect/acme/CallRecordings/2026/03/08/{cid}_20260308T10:15_UTC.WAV"),
                Ok(ObjectKind::Recording),
            ),
            (
                format!("transcripts/{cid}_20260308T1015Z.json"),
                Ok(ObjectKind::Transcript),
            ),
            (
                format!("connect/acme/Analysis/Voice/2026/03/08/{cid}_analysis_2026-03-08T10:21:07Z.json"),
                Ok(ObjectKind::ContactLens),
            ),
            (
                format!("Analysis/Chat/2026/03/08/{cid}_analysis_2026-03-08T10:21:07Z.json"),
                Ok(ObjectKind::ContactLens),
            ),
            (
                format!(
                    "connect/acme/Analysis/Voice/Redacted/2026/03/08/{cid}_analysis_redacted_2026-03-08T10:21:07Z.json"
                ),
                Ok(ObjectKind::ContactLensRedacted),
            ),
            (
                format!("Analysis/Chat/Redacted/2026/03/08/{cid}_analysis_redacted_2026-03-08T10:21:07Z.json"),
                Ok(ObjectKind::ContactLensRedacted),
            ),
            (
                format!("connect/acme/Redacted/2026/03/08/{cid}_analysis_redacted_2026-03-08T10:21:07Z.json"),
                Err(SkipReason::RedactedCopy),
            ),
            (
                format!(
                    "connect/acme/Analysis/Voice/Redacted/2026/03/08/{cid}_call_recording_redacted_2026-03-08T10:21:07Z.wav"
                ),
                Err(SkipReason::RedactedCopy),
            ),
            (
                "transcripts/.write_access_check_file.temp".into(),
                Err(SkipReason::WriteAccessProbe),
            ),
            ("transcripts/".into(), Err(SkipReason::FolderMarker)),
            ("transcripts/notes.txt".into(), Err(SkipReason::NotAnInput)),
            (
                "connect/acme/CallRecordings/2026/03/08/readme.json".into(),
                Err(SkipReason::NotAnInput),
            ),
            (
                "sentiment_turns/year=2026/month=03/day=08/hour=10/x.json".into(),
                Err(SkipReason::NotAnInput),
            ),
            ("elsewhere/x.wav".into(), Err(SkipReason::NotAnInput)),
            ("connect/acme/CallRecordings/.wav".into(), Err(SkipReason::NotAnInput)),
            ("xAnalysis/Voice/a.json".into(), Err(SkipReason::NotAnInput)),
        ] {
            assert_eq!(classify(&key, &p), want, "{key}");
        }
    }

    #[test]
    fn a_redacted_analysis_file_names_where_its_original_would_be() {
        let cid = "5b4a0e4c-6b2e-4d4f-9a57-0f3c2d1e9b10";
        assert_eq!(
            original_analysis_prefix(&format!(
                "connect/acme/Analysis/Voice/Redacted/2026/03/08/{cid}_analysis_redacted_2026-03-08T10:21:07Z.json"
            )),
            Some(format!("connect/acme/Analysis/Voice/2026/03/08/{cid}_analysis_"))
        );
        assert_eq!(
            original_analysis_prefix(&format!(
                "Analysis/Chat/Redacted/2026/03/08/{cid}_analysis_redacted_2026-03-08T10:21:07Z.json"
            )),
            Some(format!("Analysis/Chat/2026/03/08/{cid}_analysis_"))
        );
        for not_one in [
            format!("Analysis/Voice/Redacted/2026/03/08/{cid}_call_recording_redacted_2026-03-08T10:21:07Z.wav"),
            format!("Analysis/Voice/2026/03/08/{cid}_analysis_2026-03-08T10:21:07Z.json"),
            format!("Redacted/2026/03/08/{cid}_analysis_redacted_2026-03-08T10:21:07Z.json"),
            "Analysis/Voice/Redacted/2026/03/08/not an id_analysis_redacted_1.json".to_owned(),
        ] {
            assert_eq!(original_analysis_prefix(&not_one), None, "{not_one}");
        }
    }

    #[test]
    fn contact_ids_come_from_file_names_and_job_names() {
        let cid = "5b4a0e4c-6b2e-4d4f-9a57-0f3c2d1e9b10";
        assert_eq!(
            contact_id_from_key(&format!("a/b/{cid}_20260308T10:15_UTC.wav")),
            Some(cid)
        );
        assert_eq!(contact_id_from_key(&format!("transcripts/{cid}.json")), Some(cid));
        assert_eq!(
            contact_id_from_key(&format!("transcripts/{JOB_NAME_PREFIX}{cid}.json")),
            Some(cid)
        );
        assert_eq!(
            contact_id_from_key(&format!("transcripts/redacted-{cid}_20260308T1015Z.json")),
            Some(cid)
        );
        assert_eq!(contact_id_from_key("transcripts/hello world.json"), None);
        assert_eq!(contact_id_from_key("transcripts/_x.json"), None);
        assert_eq!(contact_id_from_job_name(&job_name(cid)), Some(cid));
        assert_eq!(contact_id_from_job_name("someone-elses-job"), None);
        assert!(!is_contact_id(&"a".repeat(129)));
        assert!(!is_contact_id("../etc"));
    }

    #[test]
    fn times_are_read_from_connect_and_own_file_names() {
        let cid = "5b4a0e4c-6b2e-4d4f-9a57-0f3c2d1e9b10";
        assert_eq!(
            time_in_name(&format!("{cid}_20190813T20:33_UTC.wav")),
            Some(datetime!(2019-08-13 20:33 UTC))
        );
        assert_eq!(
            time_in_name(&format!("{cid}_analysis_2020-02-04T21:14:16Z.json")),
            Some(datetime!(2020-02-04 21:14:16 UTC))
        );
        assert_eq!(
            time_in_name(&format!("{cid}_analysis_2020-02-04T21:14:16.250Z.json")),
            Some(datetime!(2020-02-04 21:14:16.25 UTC))
        );
        assert_eq!(
            time_in_name(&format!("{cid}_20260308T1015Z.json")),
            Some(datetime!(2026-03-08 10:15 UTC))
        );
        assert_eq!(
            time_in_name(&format!("{cid}_20260308T101542Z.json")),
            Some(datetime!(2026-03-08 10:15:42 UTC))
        );
        for none in [
            "x_20261308T1015Z.json",
            "x_20260308T2515Z.json",
            "x_20260308T1015.json",
            "plain.json",
            "2026",
        ] {
            assert_eq!(time_in_name(none), None, "{none}");
        }
        let written = transcript_key("transcripts/", cid, datetime!(2026-03-08 10:15:59 UTC));
        assert_eq!(written, format!("transcripts/{cid}_20260308T1015Z.json"));
        assert_eq!(
            time_in_name(&written),
            Some(datetime!(2026-03-08 10:15 UTC)),
            "round trip"
        );
        assert!(
            written
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_./".contains(&b))
        );
    }

    #[test]
    fn contact_time_falls_back_from_name_to_path_to_event_to_now() {
        let now = datetime!(2030-01-01 00:00 UTC);
        let (t, s) = contact_time("a/2026/03/08/x_20260308T10:15_UTC.wav", None, now);
        assert_eq!((t, s), (datetime!(2026-03-08 10:15 UTC), TimeSource::Key));
        let (t, s) = contact_time("a/2026/03/08/x.json", Some("2026-03-09T01:00:00.000Z"), now);
        assert_eq!((t, s), (datetime!(2026-03-08 00:00 UTC), TimeSource::KeyDate));
        let (t, s) = contact_time("transcripts/x.json", Some("2026-03-09T01:00:00.000Z"), now);
        assert_eq!((t, s), (datetime!(2026-03-09 01:00 UTC), TimeSource::EventTime));
        let (t, s) = contact_time("transcripts/x.json", Some("garbage"), now);
        assert_eq!((t, s), (now, TimeSource::ProcessingTime));
        let (_, s) = contact_time("a/2026/13/08/x.json", None, now);
        assert_eq!(s, TimeSource::ProcessingTime, "impossible dates are ignored");
    }

    #[test]
    fn output_keys_are_deterministic_per_contact_and_source() {
        let p = PartitionValues::for_instant(datetime!(2026-03-08 10:15 UTC));
        assert_eq!(
            output_key("sentiment_turns", &p, "c-1", "transcribe"),
            "sentiment_turns/year=2026/month=03/day=08/hour=10/c-1_transcribe.json"
        );
        assert_eq!(normalize_prefix("connect"), "connect/");
        assert_eq!(normalize_prefix("/connect/"), "connect/");
        assert_eq!(normalize_prefix(""), "");
    }
}
