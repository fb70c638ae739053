//! The backfill benchmark (`lakectl bench-backfill`, in `make bench`): generated contacts,
//! gzipped and spread over days, loaded by the real `lakectl backfill` command, a child process,
//! into the local emulator as Parquet. It reports wall time, records per second, objects written
//! and the child's peak resident memory, and one run over at least 2 GB of uncompressed input
//! for the memory figure.

use std::fmt;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use lambda_harness::Emulator;
use time::Date;

use crate::generate::{Generator, TrafficOptions};
use crate::lake::emulator_config;

/// The figures before streaming and partition-aware writing (issue #17, release build): 20,000
/// contacts over 28 days.
pub const BEFORE: &str = "before (issue #17, release build): 20000 contacts over 28 days in 49.8 s (about 400 records/s), \
                          14375 objects, 116 MB peak RSS";

/// One measured backfill.
#[derive(Debug, Clone)]
pub struct Measured {
    pub contacts: usize,
    pub days: u32,
    pub input_bytes: u64,
    pub gzip_bytes: u64,
    pub records: u64,
    pub objects: u64,
    pub partitions: u64,
    pub wall: Duration,
    pub peak_rss_mb: f64,
}

impl Measured {
    pub fn records_per_s(&self) -> f64 {
        self.records as f64 / self.wall.as_secs_f64().max(1e-9)
    }
}

/// The benchmark's table.
#[derive(Debug, Clone, Default)]
pub struct BackfillBench {
    pub runs: Vec<Measured>,
}

impl fmt::Display for BackfillBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "backfill benchmark: `lakectl backfill` (this build) into the local emulator as Parquet, gzip input"
        )?;
        writeln!(
            f,
            "{:>9} {:>5} {:>10} {:>9} {:>9} {:>8} {:>10} {:>8} {:>11} {:>12}",
            "contacts",
            "days",
            "input MB",
            "gzip MB",
            "records",
            "wall s",
            "records/s",
            "objects",
            "partitions",
            "peak RSS MB"
        )?;
        for r in &self.runs {
            writeln!(
                f,
                "{:>9} {:>5} {:>10.1} {:>9.1} {:>9} {:>8.1} {:>10.0} {:>8} {:>11} {:>12.1}",
                r.contacts,
                r.days,
                r.input_bytes as f64 / 1e6,
                r.gzip_bytes as f64 / 1e6,
                r.records,
                r.wall.as_secs_f64(),
                r.records_per_s(),
                r.objects,
                r.partitions,
                r.peak_rss_mb
            )?;
        }
        writeln!(f, "{BEFORE}")
    }
}

/// Writes `contacts` generated contacts (the latest copy of each), `contacts / days` a day from
/// 2026-03-01, as one gzip file in JSON lines. Returns the uncompressed and compressed sizes.
///
/// # Errors
/// Writing the file.
pub fn write_contacts(path: &Path, contacts: usize, days: u32, seed: u64) -> std::io::Result<(u64, u64)> {
    let file = std::fs::File::create(path)?;
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let start = Date::from_calendar_date(2026, time::Month::March, 1).unwrap_or(Date::MIN);
    let per_day = contacts.div_ceil(days.max(1) as usize);
    let mut left = contacts;
    let mut raw = 0u64;
    let mut day = 0u32;
    while left > 0 {
        let n = per_day.min(left);
        let date = start.saturating_add(time::Duration::days(i64::from(day % days.max(1))));
        raw += write_day(&mut gz, date, n, seed, day)?.0;
        left -= n;
        day += 1;
    }
    gz.finish()?.flush()?;
    Ok((raw, std::fs::metadata(path)?.len()))
}

/// Like [`write_contacts`], but keeps adding days of `per_day` contacts until the uncompressed
/// input passes `bytes`. Returns the contacts, days, and both sizes.
///
/// # Errors
/// Writing the file.
pub fn write_at_least(path: &Path, bytes: u64, per_day: usize, seed: u64) -> std::io::Result<(usize, u32, u64, u64)> {
    let file = std::fs::File::create(path)?;
    let mut gz = flate2::write::GzEncoder::new(std::io::BufWriter::new(file), flate2::Compression::fast());
    let start = Date::from_calendar_date(2026, time::Month::January, 1).unwrap_or(Date::MIN);
    let (mut raw, mut contacts, mut day) = (0u64, 0usize, 0u32);
    while raw < bytes {
        let date = start.saturating_add(time::Duration::days(i64::from(day)));
        let (day_raw, day_contacts) = write_day(&mut gz, date, per_day, seed, day)?;
        raw += day_raw;
        contacts += day_contacts;
        day += 1;
    }
    gz.finish()?.flush()?;
    Ok((contacts, day, raw, std::fs::metadata(path)?.len()))
}

/// One day of `n` contacts (their latest copies, no agent events) as JSON lines, seeded by the run's
/// seed and the day's number. Returns the uncompressed bytes and the contacts written.
fn write_day(gz: &mut impl Write, date: Date, n: usize, seed: u64, day: u32) -> std::io::Result<(u64, usize)> {
    let day_seed = seed.wrapping_mul(1_000_003).wrapping_add(u64::from(day));
    let options = TrafficOptions {
        day: date,
        agent_events_per_contact: 0.0,
        ..TrafficOptions::new(n, day_seed)
    };
    let (mut raw, mut contacts) = (0u64, 0usize);
    for c in Generator::new(day_seed)
        .traffic(&options)
        .ctrs
        .iter()
        .filter(|c| c.latest)
    {
        gz.write_all(&c.json)?;
        gz.write_all(b"\n")?;
        raw += c.json.len() as u64 + 1;
        contacts += 1;
    }
    Ok((raw, contacts))
}

/// The figures `lakectl backfill` prints: records, objects, partitions and peak memory.
fn parse_summary(stdout: &str) -> Option<(u64, u64, u64, f64)> {
    let line = stdout.lines().find(|l| l.starts_with("backfill:"))?;
    let number_before = |word: &str| -> Option<f64> {
        let at = line.find(word)?;
        line.get(..at)?.split_whitespace().last()?.parse().ok()
    };
    let peak = line
        .split("peak memory ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((
        number_before(" records:")? as u64,
        number_before(" objects in")? as u64,
        number_before(" partitions (")? as u64,
        peak,
    ))
}

/// The benchmarks' empty lake in the emulator: the `bench-lake` bucket and the `connect_lake`
/// Glue database.
pub(crate) async fn create_empty_lake(config: &aws_config::SdkConfig) -> Result<(), String> {
    connect_lake::aws::s3_client(config)
        .create_bucket()
        .bucket("bench-lake")
        .send()
        .await
        .map_err(|e| format!("CreateBucket: {e:?}"))?;
    let database = aws_sdk_glue::types::DatabaseInput::builder()
        .name("connect_lake")
        .build()
        .map_err(|e| e.to_string())?;
    aws_sdk_glue::Client::new(config)
        .create_database()
        .database_input(database)
        .send()
        .await
        .map_err(|e| format!("CreateDatabase: {e:?}"))?;
    Ok(())
}

/// Runs `lakectl backfill` (this executable) on `input` into a fresh lake in `emulator`.
async fn measure(emulator: &Emulator, input: &Path, work: &Path) -> Result<(Duration, (u64, u64, u64, f64)), String> {
    emulator.reset().await.map_err(|e| e.to_string())?;
    let config = emulator_config(emulator).await;
    create_empty_lake(&config).await?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let started = Instant::now();
    let out = tokio::process::Command::new(exe)
        .args([
            "backfill",
            "--no-progress",
            "--bucket",
            "bench-lake",
            "--database",
            "connect_lake",
        ])
        .args(["--format", "parquet", "--errors"])
        .arg(work.join("errors.jsonl"))
        .arg("--work-dir")
        .arg(work)
        .arg(input)
        .envs(emulator.env())
        .env("PII_TOKEN_KEY", crate::DEMO_PII_KEY)
        .env_remove("AWS_PROFILE")
        .output()
        .await
        .map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "lakectl backfill failed: {}{}",
            stdout,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let figures = parse_summary(&stdout).ok_or_else(|| format!("no summary in: {stdout}"))?;
    Ok((wall, figures))
}

/// Measures a backfill of each of `contacts` over `days` days, then one of at least
/// `memory_bytes` of uncompressed input (skipped when 0).
///
/// Backfills one input of `contacts` over `days` (`sizes`: uncompressed and gzip bytes), measures
/// the run, and removes the input.
async fn measure_input(
    emulator: &Emulator,
    input: &Path,
    dir: &Path,
    (contacts, days): (usize, u32),
    (input_bytes, gzip_bytes): (u64, u64),
) -> Result<Measured, String> {
    let (wall, (records, objects, partitions, peak_rss_mb)) = measure(emulator, input, dir).await?;
    let _ = std::fs::remove_file(input);
    Ok(Measured {
        contacts,
        days,
        input_bytes,
        gzip_bytes,
        records,
        objects,
        partitions,
        wall,
        peak_rss_mb,
    })
}

/// # Errors
/// The emulator, generating the input, or a backfill failing, as text.
pub async fn run(contacts: &[usize], days: u32, memory_bytes: u64, seed: u64) -> Result<BackfillBench, String> {
    let emulator = Emulator::start().await.map_err(|e| e.to_string())?;
    let dir = tempfile::Builder::new()
        .prefix("connect-lake-bench-backfill-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let mut bench = BackfillBench::default();
    for &n in contacts {
        let input = dir.path().join(format!("contacts-{n}.jsonl.gz"));
        let sizes = write_contacts(&input, n, days, seed).map_err(|e| e.to_string())?;
        let run = measure_input(&emulator, &input, dir.path(), (n, days), sizes).await?;
        bench.runs.push(run);
    }
    if memory_bytes > 0 {
        let input = dir.path().join("memory.jsonl.gz");
        let (n, days, input_bytes, gzip_bytes) =
            write_at_least(&input, memory_bytes, 10_000, seed).map_err(|e| e.to_string())?;
        let sizes = (input_bytes, gzip_bytes);
        let run = measure_input(&emulator, &input, dir.path(), (n, days), sizes).await?;
        bench.runs.push(run);
    }
    Ok(bench)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_gives_records_objects_partitions_and_peak_memory() {
        let line = "backfill: 1 files loaded (0 by an interrupted attempt), 0 skipped (in the manifest), 0 unreadable; 20000 records: 20000 Ok, \
                    0 Dropped, 0 failed, 0 input errors (see e.jsonl); 672 objects in 672 partitions (0 resumed, \
                    0 replaced); 672 partitions registered, 0 already there; peak memory 88.5 MB";
        assert_eq!(parse_summary(line), Some((20000, 672, 672, 88.5)));
        assert_eq!(parse_summary("nothing"), None);
    }

    #[test]
    fn generated_input_is_gzip_of_one_contact_per_line_over_the_days() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.jsonl.gz");
        let (raw, gz) = write_contacts(&path, 56, 28, 1).unwrap();
        assert!(gz < raw && gz > 0);
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(std::fs::File::open(&path).unwrap()),
            &mut text,
        )
        .unwrap();
        let days: std::collections::BTreeSet<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["InitiationTimestamp"]
                    .as_str()
                    .unwrap()[..10]
                    .to_owned()
            })
            .collect();
        assert_eq!(text.lines().count(), 56);
        assert_eq!(days.len(), 28, "{days:?}");
    }
}
