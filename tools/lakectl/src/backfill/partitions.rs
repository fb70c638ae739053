//! Rows grouped by partition across batches and input files, sealed into one object per
//! partition per rollover.
//!
//! A partition's rows are kept in memory until the rows of all partitions pass the memory
//! budget; then every buffer is appended to that partition's spill file in the run's work
//! folder, so memory stays bounded whatever the input size (the disk holds what has not been
//! written yet). A partition's object is sealed when its rows reach the target size, or at the
//! end of the run: objects per partition for a run are at most ⌈partition bytes / target⌉.
//!
//! Keys are `<partition>backfill-<run>-<seq>.<ext>`: the run's id (from its inputs and
//! options) and the object's number within its partition. Which rows go into which object
//! depends only on the order of the partition's rows, never on when memory was spilled, so a
//! rerun of the same run writes the same keys with the same rows.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use connect_lake::config::LakeFormat;
use connect_lake::schema::Table;

/// The rows of one sealed object: in memory, or in a spill file (then the file holds them all).
#[derive(Debug)]
pub enum Rows {
    Memory(Vec<u8>),
    File(PathBuf),
}

/// An object ready to be written.
#[derive(Debug)]
pub struct Sealed {
    pub key: String,
    pub prefix: String,
    pub table: &'static Table,
    pub format: LakeFormat,
    pub rows: Rows,
    pub row_count: u64,
}

#[derive(Debug)]
struct Part {
    table: &'static Table,
    format: LakeFormat,
    /// Index of the partition in this run, naming its spill files.
    index: usize,
    /// Number of the object being filled.
    seq: u32,
    buf: Vec<u8>,
    /// Bytes of the object being filled (buffered and spilled).
    bytes: u64,
    rows: u64,
    spill: Option<PathBuf>,
}

#[derive(Debug)]
pub struct PartitionWriter {
    run: String,
    target: u64,
    budget: usize,
    work_dir: PathBuf,
    parts: BTreeMap<String, Part>,
    buffered: usize,
    /// How many times the buffers were spilled to disk.
    pub spills: u64,
}

impl PartitionWriter {
    /// `run` names the keys, `target` is the rollover size in row bytes, `budget` the bytes of
    /// rows kept in memory before spilling into `work_dir`.
    pub fn new(run: &str, target: u64, budget: usize, work_dir: &Path) -> Self {
        PartitionWriter {
            run: run.to_owned(),
            target: target.max(1),
            budget,
            work_dir: work_dir.to_owned(),
            parts: BTreeMap::new(),
            buffered: 0,
            spills: 0,
        }
    }

    /// Every partition this run has rows for.
    pub fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.parts.keys().map(String::as_str)
    }

    /// Adds one row (ending in `\n`) to its partition; returns the object it completes, if any.
    ///
    /// # Errors
    /// Spilling to the work folder failed.
    pub fn add(
        &mut self,
        prefix: &str,
        table: &'static Table,
        format: LakeFormat,
        row: &[u8],
    ) -> std::io::Result<Option<Sealed>> {
        if !self.parts.contains_key(prefix) {
            let index = self.parts.len();
            self.parts.insert(
                prefix.to_owned(),
                Part {
                    table,
                    format,
                    index,
                    seq: 0,
                    buf: Vec::new(),
                    bytes: 0,
                    rows: 0,
                    spill: None,
                },
            );
        }
        let Some(part) = self.parts.get_mut(prefix) else {
            return Ok(None);
        };
        part.buf.extend_from_slice(row);
        part.bytes += row.len() as u64;
        part.rows += 1;
        self.buffered += row.len();
        let sealed = if part.bytes >= self.target {
            let sealed = seal(&self.run, prefix, part)?;
            self.buffered -= match &sealed.rows {
                Rows::Memory(rows) => rows.len(),
                Rows::File(_) => 0,
            };
            Some(sealed)
        } else {
            None
        };
        if self.buffered > self.budget {
            self.spill()?;
        }
        Ok(sealed)
    }

    /// Appends every buffer to its partition's spill file.
    fn spill(&mut self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.work_dir)?;
        for part in self.parts.values_mut() {
            if part.buf.is_empty() {
                continue;
            }
            let path = self.work_dir.join(format!("{:06}-{:05}.jsonl", part.index, part.seq));
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            file.write_all(&part.buf)?;
            part.buf = Vec::new();
            part.spill = Some(path);
        }
        self.buffered = 0;
        self.spills += 1;
        Ok(())
    }

    /// Seals every partition's last object (the end of the run).
    ///
    /// # Errors
    /// Writing a spill file failed.
    pub fn finish(&mut self) -> std::io::Result<Vec<Sealed>> {
        let mut out = Vec::new();
        for (prefix, part) in &mut self.parts {
            if part.rows > 0 {
                out.push(seal(&self.run, prefix, part)?);
            }
        }
        self.buffered = 0;
        Ok(out)
    }
}

fn seal(run: &str, prefix: &str, part: &mut Part) -> std::io::Result<Sealed> {
    let rows = match part.spill.take() {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new().append(true).open(&path)?;
            file.write_all(&part.buf)?;
            part.buf = Vec::new();
            Rows::File(path)
        }
        None => Rows::Memory(std::mem::take(&mut part.buf)),
    };
    let ext = match part.format {
        LakeFormat::Parquet => "parquet",
        LakeFormat::Json => "json",
    };
    let sealed = Sealed {
        key: format!("{prefix}backfill-{run}-{:05}.{ext}", part.seq),
        prefix: prefix.to_owned(),
        table: part.table,
        format: part.format,
        rows,
        row_count: part.rows,
    };
    part.seq += 1;
    part.bytes = 0;
    part.rows = 0;
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_lake::schema::CTR;

    fn rows_of(s: &Sealed) -> Vec<u8> {
        match &s.rows {
            Rows::Memory(r) => r.clone(),
            Rows::File(p) => std::fs::read(p).unwrap(),
        }
    }

    /// Objects per partition stay within ⌈bytes / target⌉ and keys do not depend on the memory
    /// budget: the same rows give the same objects whether they spilled or not.
    #[test]
    fn objects_per_partition_are_bounded_and_independent_of_spilling() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<(String, Vec<u8>)> = (0..2000)
            .map(|i| {
                let prefix = format!("ctr/year=2026/month=03/day=08/hour={:02}/", i % 7);
                (
                    prefix,
                    format!("{{\"contact_id\":\"c{i:05}\",\"pad\":\"{}\"}}\n", "x".repeat(i % 50)).into_bytes(),
                )
            })
            .collect();
        let run = |budget: usize, sub: &str| {
            let mut w = PartitionWriter::new("r1", 4096, budget, &dir.path().join(sub));
            let mut objects = Vec::new();
            for (prefix, row) in &rows {
                objects.extend(w.add(prefix, &CTR, LakeFormat::Json, row).unwrap());
            }
            objects.extend(w.finish().unwrap());
            (
                objects.iter().map(|o| (o.key.clone(), rows_of(o))).collect::<Vec<_>>(),
                w.spills,
            )
        };
        let (in_memory, spills) = run(usize::MAX, "a");
        assert_eq!(spills, 0);
        let (spilled, spills) = run(1000, "b");
        assert!(spills > 10, "{spills}");
        let mut a = in_memory.clone();
        let mut b = spilled;
        a.sort();
        b.sort();
        assert_eq!(a, b, "same keys, same rows");
        for hour in 0..7 {
            let prefix = format!("ctr/year=2026/month=03/day=08/hour={hour:02}/");
            let bytes: usize = rows.iter().filter(|(p, _)| *p == prefix).map(|(_, r)| r.len()).sum();
            let objects = in_memory.iter().filter(|(k, _)| k.starts_with(&prefix)).count();
            assert!(
                objects <= bytes.div_ceil(4096) && objects >= bytes / 4096 / 2,
                "{objects} for {bytes}"
            );
        }
        let total: usize = in_memory
            .iter()
            .map(|(_, r)| r.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count())
            .sum();
        assert_eq!(total, 2000, "every row in exactly one object");
    }
}
