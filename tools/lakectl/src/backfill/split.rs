//! Records out of a byte stream, a chunk at a time, in bounded memory.
//!
//! One scanner reads every input shape the backfill accepts, told apart by the bytes, not the
//! name:
//! - JSON lines (`{...}\n{...}\n`);
//! - Firehose raw-backup objects: the source records as delivered, back to back with no
//!   separator (`{...}{...}`), or separated by whitespace;
//! - a JSON array of records (`[{...}, {...}]`), and several arrays one after the other;
//! - any of these gzipped, single- or multi-member ([`Decoder`]).
//!
//! A record is one top-level JSON value, found by tracking strings, escapes and nesting depth;
//! it is never parsed here (the transform parses it and fails it with a reason). A line that
//! does not start like JSON is one record up to the end of its line, so a stray non-JSON line
//! costs that line only. An object left open by a truncated line ends where the next line
//! starts a new object at column 0, so it does not swallow the records after it. Memory is the
//! current record (at most [`MAX_RECORD_BYTES`]) plus the chunk being scanned.

use std::io::Write as _;

/// Firehose accepts records of at most 1,000 KiB; a longer "record" is not one.
pub const MAX_RECORD_BYTES: usize = 1_000 * 1024;

/// One record and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The record's bytes (the first [`MAX_RECORD_BYTES`] when it is `too_large`).
    pub bytes: Vec<u8>,
    /// Byte offset of its first byte in the decoded (gunzipped) stream.
    pub offset: u64,
    /// Longer than [`MAX_RECORD_BYTES`]: failed without going to the transform.
    pub too_large: bool,
}

/// A problem with the input as a whole, at a position (the records around it are still read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub offset: u64,
    pub reason: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Context {
    /// Top level: records are separated by whitespace (or nothing).
    Top,
    /// Inside a top-level array: records are its elements.
    Array,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Starts with `{` or `[`: ends when the depth returns to 0.
    Structured,
    /// Anything else: at top level, the rest of the line; in an array, up to `,` or `]`.
    Scalar,
}

/// The push scanner: feed it decoded bytes with [`Splitter::push`], then [`Splitter::finish`].
#[derive(Debug)]
pub struct Splitter {
    context: Context,
    /// The record in progress.
    current: Option<(Kind, u64)>,
    buf: Vec<u8>,
    too_large: bool,
    depth: u32,
    in_string: bool,
    escape: bool,
    /// A newline was seen inside an open structure: a `{` right after it starts a new record.
    newline_in_structure: bool,
    /// A `[` at top level opens an array of records only at the start of the stream or right
    /// after another array; elsewhere (a line of JSON lines) it is one record that is an array.
    arrays_allowed: bool,
    /// Bytes seen so far (the offset of the next byte).
    offset: u64,
    pub records: Vec<Record>,
    pub issues: Vec<Issue>,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter::new()
    }
}

impl Splitter {
    pub fn new() -> Self {
        Splitter {
            context: Context::Top,
            current: None,
            buf: Vec::new(),
            too_large: false,
            depth: 0,
            in_string: false,
            escape: false,
            newline_in_structure: false,
            arrays_allowed: true,
            offset: 0,
            records: Vec::new(),
            issues: Vec::new(),
        }
    }

    /// Bytes of the decoded stream read so far.
    pub fn position(&self) -> u64 {
        self.offset
    }

    fn start(&mut self, kind: Kind, offset: u64, byte: u8) {
        self.current = Some((kind, offset));
        self.buf.clear();
        self.too_large = false;
        self.depth = u32::from(kind == Kind::Structured);
        self.in_string = byte == b'"';
        self.escape = false;
        self.newline_in_structure = false;
        self.buf.push(byte);
    }

    fn keep(&mut self, byte: u8) {
        if self.buf.len() < MAX_RECORD_BYTES {
            self.buf.push(byte);
        } else {
            self.too_large = true;
        }
    }

    fn emit(&mut self) {
        if let Some((_, offset)) = self.current.take() {
            while self.buf.last().is_some_and(u8::is_ascii_whitespace) {
                self.buf.pop();
            }
            let bytes = std::mem::take(&mut self.buf);
            if !bytes.is_empty() {
                self.records.push(Record {
                    bytes,
                    offset,
                    too_large: self.too_large,
                });
            }
        }
    }

    /// Scans `chunk`; finished records are appended to [`Splitter::records`].
    pub fn push(&mut self, chunk: &[u8]) {
        for &b in chunk {
            let at = self.offset;
            self.offset += 1;
            match self.current {
                None => self.between(b, at),
                Some((Kind::Structured, _)) => self.structured(b, at),
                Some((Kind::Scalar, _)) => self.scalar(b),
            }
        }
    }

    fn between(&mut self, b: u8, at: u64) {
        match (self.context, b) {
            (_, b' ' | b'\t' | b'\r' | b'\n') => {}
            // A UTF-8 byte-order mark at the very start.
            (Context::Top, 0xEF | 0xBB | 0xBF) if at < 3 => {}
            (Context::Top, b'[') if self.arrays_allowed => self.context = Context::Array,
            (Context::Array, b',') => {}
            (Context::Array, b']') => self.context = Context::Top,
            (context, b'{' | b'[') => {
                self.arrays_allowed &= context == Context::Array;
                self.start(Kind::Structured, at, b);
            }
            (context, _) => {
                self.arrays_allowed &= context == Context::Array;
                self.start(Kind::Scalar, at, b);
            }
        }
    }

    fn structured(&mut self, b: u8, at: u64) {
        if self.in_string {
            if b == b'\n' {
                // JSON strings hold no raw newline: the record is broken here.
                self.emit();
                return;
            }
            self.keep(b);
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return;
        }
        if self.newline_in_structure && self.context == Context::Top && b == b'{' {
            // A record left open by a truncated line; this `{` at column 0 starts the next one.
            self.emit();
            self.start(Kind::Structured, at, b);
            return;
        }
        self.newline_in_structure = b == b'\n';
        self.keep(b);
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    self.emit();
                }
            }
            _ => {}
        }
    }

    fn scalar(&mut self, b: u8) {
        match self.context {
            Context::Top => {
                if b == b'\n' {
                    self.emit();
                } else {
                    self.keep(b);
                }
            }
            Context::Array => {
                if self.in_string {
                    self.keep(b);
                    if self.escape {
                        self.escape = false;
                    } else if b == b'\\' {
                        self.escape = true;
                    } else if b == b'"' {
                        self.in_string = false;
                    }
                    return;
                }
                match b {
                    b',' => self.emit(),
                    b']' => {
                        self.emit();
                        self.context = Context::Top;
                    }
                    b'"' => {
                        self.in_string = true;
                        self.keep(b);
                    }
                    _ => self.keep(b),
                }
            }
        }
    }

    /// Ends the stream: the record in progress is emitted as it is (the transform fails it if
    /// it is cut short), and an array left open is an [`Issue`].
    pub fn finish(&mut self) {
        let unterminated = matches!(self.current, Some((Kind::Structured, _)));
        if unterminated {
            self.issues.push(Issue {
                offset: self.offset,
                reason: "input_ends_inside_a_record",
            });
        }
        self.emit();
        if self.context == Context::Array {
            self.issues.push(Issue {
                offset: self.offset,
                reason: "array_not_closed",
            });
            self.context = Context::Top;
        }
    }
}

/// Raw input bytes to decoded bytes: gzip (any number of members) when the stream starts with
/// gzip's magic number, else passed through. Push-based, so it works on file reads and S3
/// body chunks alike.
#[derive(Debug)]
pub struct Decoder {
    state: DecoderState,
    /// Compressed bytes consumed so far.
    pub consumed: u64,
}

#[derive(Debug)]
enum DecoderState {
    /// Fewer than two bytes seen: not yet known.
    Sniffing(Vec<u8>),
    Plain,
    Gzip(Box<flate2::write::MultiGzDecoder<Vec<u8>>>),
    Failed,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    pub fn new() -> Self {
        Decoder {
            state: DecoderState::Sniffing(Vec::new()),
            consumed: 0,
        }
    }

    /// Decodes `chunk`, handing the decoded bytes to `out`.
    ///
    /// # Errors
    /// A gzip stream that is corrupt; nothing more is decoded after it.
    pub fn push(&mut self, chunk: &[u8], out: &mut impl FnMut(&[u8])) -> Result<(), &'static str> {
        if let DecoderState::Sniffing(head) = &mut self.state {
            head.extend_from_slice(chunk);
            if head.len() < 2 {
                return Ok(());
            }
            let head = std::mem::take(head);
            self.state = if head.starts_with(&[0x1f, 0x8b]) {
                DecoderState::Gzip(Box::new(flate2::write::MultiGzDecoder::new(Vec::new())))
            } else {
                DecoderState::Plain
            };
            return self.feed(&head, out);
        }
        self.feed(chunk, out)
    }

    fn feed(&mut self, chunk: &[u8], out: &mut impl FnMut(&[u8])) -> Result<(), &'static str> {
        match &mut self.state {
            DecoderState::Sniffing(_) | DecoderState::Failed => Ok(()),
            DecoderState::Plain => {
                self.consumed += chunk.len() as u64;
                out(chunk);
                Ok(())
            }
            DecoderState::Gzip(gz) => {
                // Small steps keep the decoded output per step small, whatever the ratio.
                for piece in chunk.chunks(16 * 1024) {
                    let written = gz.write_all(piece);
                    let decoded = std::mem::take(gz.get_mut());
                    out(&decoded);
                    if written.is_err() {
                        self.state = DecoderState::Failed;
                        return Err("corrupt_gzip");
                    }
                    self.consumed += piece.len() as u64;
                }
                Ok(())
            }
        }
    }

    /// Ends the stream.
    ///
    /// # Errors
    /// A gzip stream that stops before its end (`truncated_gzip`).
    pub fn finish(&mut self, out: &mut impl FnMut(&[u8])) -> Result<(), &'static str> {
        match std::mem::replace(&mut self.state, DecoderState::Failed) {
            DecoderState::Sniffing(head) => {
                self.consumed += head.len() as u64;
                out(&head);
                Ok(())
            }
            DecoderState::Plain => Ok(()),
            DecoderState::Failed => Ok(()),
            DecoderState::Gzip(mut gz) => {
                let done = gz.try_finish();
                let decoded = std::mem::take(gz.get_mut());
                out(&decoded);
                done.map_err(|_| "truncated_gzip")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(bytes: &[u8], step: usize) -> (Vec<String>, Vec<Issue>) {
        let mut s = Splitter::new();
        for chunk in bytes.chunks(step.max(1)) {
            s.push(chunk);
        }
        s.finish();
        let records = s
            .records
            .iter()
            .map(|r| String::from_utf8_lossy(&r.bytes).into_owned())
            .collect();
        (records, s.issues)
    }

    #[test]
    fn lines_concatenated_objects_and_arrays_split_into_records_whatever_the_chunking() {
        let cases: [(&[u8], &[&str]); 7] = [
            (
                b"{\"a\":1}\n\n{\"b\":2}\r\nnot json\n",
                &["{\"a\":1}", "{\"b\":2}", "not json"],
            ),
            (
                b"{\"a\":\"}{\"}{\"b\":[1,{}]}{\"c\":\"\\\"}\"}",
                &["{\"a\":\"}{\"}", "{\"b\":[1,{}]}", "{\"c\":\"\\\"}\"}"],
            ),
            (b" [ {\"a\":1}, {\"b\":[1,2]} ] ", &["{\"a\":1}", "{\"b\":[1,2]}"]),
            (
                b"[{\"a\":1}][{\"b\":2}]\n{\"c\":3}",
                &["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"],
            ),
            (b"[1, \"x,]\", true]", &["1", "\"x,]\"", "true"]),
            (b"{\"a\":1}\n[1,2,3]\n[4]", &["{\"a\":1}", "[1,2,3]", "[4]"]),
            (
                b"{\n  \"pretty\": {\n    \"x\": 1\n  }\n}\n{\"next\":1}",
                &["{\n  \"pretty\": {\n    \"x\": 1\n  }\n}", "{\"next\":1}"],
            ),
        ];
        for (input, want) in cases {
            for step in [1, 2, 3, 7, 4096] {
                let (got, issues) = split(input, step);
                assert_eq!(got, want, "step {step}: {}", String::from_utf8_lossy(input));
                assert!(issues.is_empty(), "{issues:?}");
            }
        }
    }

    #[test]
    fn a_truncated_line_costs_that_line_only() {
        let (got, issues) = split(b"{\"a\":1}\n{\"b\":{\"c\":2\n{\"d\":4}\n{\"e\":\"cut\n{\"f\":6}\n", 5);
        assert_eq!(
            got,
            ["{\"a\":1}", "{\"b\":{\"c\":2", "{\"d\":4}", "{\"e\":\"cut", "{\"f\":6}"]
        );
        assert!(issues.is_empty());
        let (got, issues) = split(b"[{\"a\":1},", 3);
        assert_eq!(got, ["{\"a\":1}"]);
        assert_eq!(issues[0].reason, "array_not_closed");
        let (got, issues) = split(b"{\"a\":1}{\"b\":", 3);
        assert_eq!(got, ["{\"a\":1}", "{\"b\":"]);
        assert_eq!(issues[0].reason, "input_ends_inside_a_record");
    }

    #[test]
    fn offsets_point_at_each_record_and_oversized_records_are_cut() {
        let mut s = Splitter::new();
        s.push(b"  {\"a\":1}\nxyz\n");
        s.finish();
        assert_eq!(s.records.iter().map(|r| r.offset).collect::<Vec<_>>(), [2, 10]);
        let mut big = b"{\"a\":\"".to_vec();
        big.resize(MAX_RECORD_BYTES + 10, b'x');
        big.extend_from_slice(b"\"}{\"b\":1}");
        let mut s = Splitter::new();
        s.push(&big);
        s.finish();
        assert_eq!(s.records.len(), 2);
        assert!(s.records[0].too_large && s.records[0].bytes.len() == MAX_RECORD_BYTES);
        assert!(!s.records[1].too_large);
    }

    #[test]
    fn gzip_is_decoded_in_steps_and_truncation_is_reported() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(b"{\"a\":1}\n{\"b\":2}\n").unwrap();
        let mut member = gz.finish().unwrap();
        let two = [member.clone(), member.clone()].concat();
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for c in two.chunks(3) {
            d.push(c, &mut |b| out.extend_from_slice(b)).unwrap();
        }
        d.finish(&mut |b| out.extend_from_slice(b)).unwrap();
        assert_eq!(out, b"{\"a\":1}\n{\"b\":2}\n{\"a\":1}\n{\"b\":2}\n");

        member.truncate(member.len() - 6);
        let mut d = Decoder::new();
        let mut out = Vec::new();
        d.push(&member, &mut |b| out.extend_from_slice(b)).unwrap();
        assert_eq!(d.finish(&mut |b| out.extend_from_slice(b)), Err("truncated_gzip"));

        let mut d = Decoder::new();
        let mut out = Vec::new();
        d.push(b"p", &mut |b| out.extend_from_slice(b)).unwrap();
        d.finish(&mut |b| out.extend_from_slice(b)).unwrap();
        assert_eq!(out, b"p", "a one-byte input is plain");
    }
}
