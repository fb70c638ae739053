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
//!
//! At a checkpoint every buffer is spilled, and [`PartitionWriter::positions`] says where each
//! partition stands: its object's number, rows and bytes so far, and the length of its spill
//! file. [`PartitionWriter::restore`] puts a new writer back there (the spill file cut to that
//! length), so a resumed run goes on from the checkpoint instead of from its first input.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use connect_lake::config::LakeFormat;
use connect_lake::schema::Table;
use serde::{Deserialize, Serialize};

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
    /// Bytes in the spill file.
    spilled: u64,
}

/// Where a partition stands at a checkpoint, with every row of its open object in `spill`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub index: usize,
    pub seq: u32,
    pub bytes: u64,
    pub rows: u64,
    /// The spill file's name in the work folder and its length (none when `rows` is 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spill: Option<(String, u64)>,
}

#[derive(Debug)]
pub struct PartitionWriter {
    run: String,
    target: u64,
    budget: usize,
    work_dir: PathBuf,
    parts: BTreeMap<String, Part>,
    /// Index of the next new partition (names its spill files).
    next_index: usize,
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
            next_index: 0,
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
            let index = self.next_index;
            self.next_index += 1;
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
                    spilled: 0,
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
    ///
    /// # Errors
    /// Writing a spill file failed.
    pub fn spill(&mut self) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.work_dir)?;
        for part in self.parts.values_mut() {
            if part.buf.is_empty() {
                continue;
            }
            let path = part
                .spill
                .take()
                .unwrap_or_else(|| self.work_dir.join(format!("{:06}-{:05}.jsonl", part.index, part.seq)));
            let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path)?;
            file.write_all(&part.buf)?;
            part.spilled += part.buf.len() as u64;
            part.buf = Vec::new();
            part.spill = Some(path);
        }
        self.buffered = 0;
        self.spills += 1;
        Ok(())
    }

    /// Every partition's position, after [`Self::spill`] (a buffered row would not be in it).
    pub fn positions(&self) -> BTreeMap<String, Position> {
        self.parts
            .iter()
            .map(|(prefix, part)| {
                let spill = part.spill.as_ref().map(|path| {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    (name.unwrap_or_default(), part.spilled)
                });
                let position = Position {
                    index: part.index,
                    seq: part.seq,
                    bytes: part.bytes,
                    rows: part.rows,
                    spill,
                };
                (prefix.clone(), position)
            })
            .collect()
    }

    /// Puts a partition back where a checkpoint left it: its spill file (in this writer's work
    /// folder) is cut to the checkpoint's length, dropping rows added after it. When the object
    /// being filled at the checkpoint was written since (`written`), its rows are not needed: it
    /// is counted, not kept, and sealed again under the same key for a writer that skips it.
    ///
    /// # Errors
    /// The spill file is missing, shorter than the checkpoint says, or cannot be cut.
    pub fn restore(
        &mut self,
        prefix: &str,
        table: &'static Table,
        format: LakeFormat,
        position: &Position,
        written: bool,
    ) -> std::io::Result<()> {
        let (spill, spilled) = match &position.spill {
            _ if written => (None, 0),
            Some((name, len)) => {
                let path = self.work_dir.join(name);
                let file = std::fs::OpenOptions::new().write(true).open(&path)?;
                if file.metadata()?.len() < *len {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        format!("{} is shorter than its checkpoint", path.display()),
                    ));
                }
                file.set_len(*len)?;
                (Some(path), *len)
            }
            None if position.rows > 0 => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("{prefix} has rows at the checkpoint but no spill file"),
                ));
            }
            None => (None, 0),
        };
        self.next_index = self.next_index.max(position.index + 1);
        self.parts.insert(
            prefix.to_owned(),
            Part {
                table,
                format,
                index: position.index,
                seq: position.seq,
                buf: Vec::new(),
                bytes: position.bytes,
                rows: position.rows,
                spill,
                spilled,
            },
        );
        Ok(())
    }

    /// Deletes every file in the work folder that no partition's open object uses: what an
    /// interrupted attempt spilled after its checkpoint would otherwise be appended to.
    ///
    /// # Errors
    /// Listing or deleting failed.
    pub fn remove_other_files(&self) -> std::io::Result<()> {
        let used: std::collections::HashSet<&Path> = self.parts.values().filter_map(|p| p.spill.as_deref()).collect();
        for entry in std::fs::read_dir(&self.work_dir)? {
            let path = entry?.path();
            if !used.contains(path.as_path()) {
                std::fs::remove_file(&path)?;
            }
        }
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

/// The key of a run's object number `seq` in the partition `prefix`.
pub fn object_key(run: &str, prefix: &str, seq: u32, format: LakeFormat) -> String {
    let ext = match format {
        LakeFormat::Parquet => "parquet",
        LakeFormat::Json => "json",
    };
    format!("{prefix}backfill-{run}-{seq:05}.{ext}")
}

fn seal(run: &str, prefix: &str, part: &mut Part) -> std::io::Result<Sealed> {
    let rows = match part.spill.take() {
        Some(path) => {
            let mut file = std::fs::OpenOptions::new().append(true).open(&path)?;
            file.write_all(&part.buf)?;
            part.buf = Vec::new();
            part.spilled = 0;
            Rows::File(path)
        }
        None => Rows::Memory(std::mem::take(&mut part.buf)),
    };
    let sealed = Sealed {
        key: object_key(run, prefix, part.seq, part.format),
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

    /// A writer restored from a checkpoint, given the rows after it, writes exactly the objects
    /// one uninterrupted writer writes, even when the interrupted one went on past the checkpoint.
    #[test]
    fn a_writer_restored_from_a_checkpoint_writes_what_an_uninterrupted_one_does() {
        let dir = tempfile::tempdir().unwrap();
        let rows: Vec<(String, Vec<u8>)> = (0..2000)
            .map(|i| {
                let prefix = format!("ctr/year=2026/month=03/day=08/hour={:02}/", (i / 100 + i % 3) % 9);
                (
                    prefix,
                    format!("{{\"contact_id\":\"c{i:05}\",\"pad\":\"{}\"}}\n", "y".repeat(i % 40)).into_bytes(),
                )
            })
            .collect();
        let mut whole = PartitionWriter::new("r1", 4096, 1000, &dir.path().join("whole"));
        let mut expected = BTreeMap::new();
        for (prefix, row) in &rows {
            expected.extend(
                whole
                    .add(prefix, &CTR, LakeFormat::Json, row)
                    .unwrap()
                    .map(|o| (o.key.clone(), rows_of(&o))),
            );
        }
        expected.extend(whole.finish().unwrap().iter().map(|o| (o.key.clone(), rows_of(o))));

        let work = dir.path().join("resumed");
        let mut first = PartitionWriter::new("r1", 4096, 1000, &work);
        let mut got = BTreeMap::new();
        for (prefix, row) in &rows[..1100] {
            got.extend(
                first
                    .add(prefix, &CTR, LakeFormat::Json, row)
                    .unwrap()
                    .map(|o| (o.key.clone(), rows_of(&o))),
            );
        }
        first.spill().unwrap();
        let positions = first.positions();
        // Past the checkpoint: more rows, spills and objects written (their spill files gone,
        // as after an upload), then the process dies.
        let mut written = BTreeMap::new();
        for (prefix, row) in &rows[1100..1500] {
            if let Some(o) = first.add(prefix, &CTR, LakeFormat::Json, row).unwrap() {
                written.insert(o.key.clone(), rows_of(&o));
                if let Rows::File(path) = &o.rows {
                    std::fs::remove_file(path).unwrap();
                }
            }
        }
        first.spill().unwrap();
        assert!(written.len() > 3, "{}", written.len());
        let mut resumed = PartitionWriter::new("r1", 4096, 1000, &work);
        for (prefix, position) in &positions {
            let done = written.contains_key(&object_key("r1", prefix, position.seq, LakeFormat::Json));
            resumed.restore(prefix, &CTR, LakeFormat::Json, position, done).unwrap();
        }
        resumed.remove_other_files().unwrap();
        let mut sealed = Vec::new();
        for (prefix, row) in &rows[1100..] {
            sealed.extend(resumed.add(prefix, &CTR, LakeFormat::Json, row).unwrap());
        }
        sealed.extend(resumed.finish().unwrap());
        // Objects already written are skipped, as `write_object` does.
        got.extend(
            sealed
                .iter()
                .filter(|o| !written.contains_key(&o.key))
                .map(|o| (o.key.clone(), rows_of(o))),
        );
        got.extend(written);
        assert!(expected.len() > 20, "{}", expected.len());
        assert_eq!(got, expected);

        // A spill file shorter than its checkpoint (rows lost) is refused, not resumed from.
        let (prefix, position) = positions.iter().find(|(_, p)| p.rows > 0).unwrap();
        let (name, len) = position.spill.clone().unwrap();
        std::fs::write(work.join(&name), vec![b'x'; (len / 2) as usize]).unwrap();
        let mut again = PartitionWriter::new("r1", 4096, 1000, &work);
        assert!(again.restore(prefix, &CTR, LakeFormat::Json, position, false).is_err());
    }
}
