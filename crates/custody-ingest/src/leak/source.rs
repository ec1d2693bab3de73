//! The bytes of a leaked file turned into lines of text: gzip is undone, UTF-16 is turned into
//! UTF-8, and each line is decoded on its own, so a file that mixes UTF-8 and Windows-1252 loses
//! nothing. A line longer than the limit, or one that is binary, is skipped and counted; a
//! compressed stream that ends early or breaks ends the reading, and that is reported, not fatal.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use sha2::{Digest, Sha256};

use flate2::read::MultiGzDecoder;

use super::problems::{Problem, Problems};
use crate::error::{Error, Result};

/// Bytes buffered between the file and the line splitter.
const BUFFER_BYTES: usize = 256 * 1024;

/// The text encoding of a leaked file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakEncoding {
    /// Detected: UTF-16 by its byte order mark (or its zero bytes), otherwise UTF-8 line by line
    /// with Windows-1252 for any line that is not UTF-8.
    Auto,
    /// UTF-8 (a line that is not is read as Windows-1252 and counted).
    Utf8,
    /// UTF-16, little-endian unless a byte order mark says otherwise.
    Utf16,
    /// Windows-1252.
    Windows1252,
}

impl LeakEncoding {
    /// Parses `auto`, `utf-8`, `utf-16` or `windows-1252`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(LeakEncoding::Auto),
            "utf-8" | "utf8" => Some(LeakEncoding::Utf8),
            "utf-16" | "utf16" => Some(LeakEncoding::Utf16),
            "windows-1252" | "cp1252" | "latin-1" | "latin1" => Some(LeakEncoding::Windows1252),
            _ => None,
        }
    }
}

/// How lines are decoded once any UTF-16 has been turned into UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineDecoding {
    Utf8,
    Windows1252,
}

/// Counts the bytes read from the file itself (compressed, when it is), for progress, and
/// hashes them, for evidence.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
    hasher: Arc<Mutex<Sha256>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.read.fetch_add(count as u64, Ordering::Relaxed);
        self.hasher
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .update(buffer.get(..count).unwrap_or_default());
        Ok(count)
    }
}

/// UTF-16 turned into UTF-8 as it streams.
struct Utf16ToUtf8<R> {
    inner: R,
    decoder: encoding_rs::Decoder,
    input: Vec<u8>,
    output: Vec<u8>,
    start: usize,
    done: bool,
}

impl<R: Read> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        while self.start >= self.output.len() && !self.done {
            self.input.resize(BUFFER_BYTES, 0);
            let count = self.inner.read(&mut self.input)?;
            let last = count == 0;
            self.output.clear();
            let input = self.input.get(..count).unwrap_or_default();
            // Room for the worst case, so the decoder always takes the whole block.
            let room = self
                .decoder
                .max_utf8_buffer_length(count)
                .unwrap_or(count * 3 + 16);
            let mut text = String::with_capacity(room);
            let (_, _, _) = self.decoder.decode_to_string(input, &mut text, last);
            self.output.extend_from_slice(text.as_bytes());
            self.start = 0;
            self.done = last;
        }
        let available = self.output.get(self.start..).unwrap_or_default();
        let count = available.len().min(buffer.len());
        if let (Some(target), Some(source)) = (buffer.get_mut(..count), available.get(..count)) {
            target.copy_from_slice(source);
        }
        self.start += count;
        Ok(count)
    }
}

/// What the opening found out about the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceFacts {
    /// Gzip-compressed.
    pub gzip: bool,
    /// UTF-16 (turned into UTF-8).
    pub utf16: bool,
    /// Total size of the file in bytes.
    pub size: u64,
}

/// Lines of text from a leaked file.
pub(crate) struct LineSource {
    file: String,
    inner: Box<dyn BufRead + Send>,
    decoding: LineDecoding,
    limit: usize,
    line: u64,
    raw: Vec<u8>,
    text: String,
    ended: bool,
    nul_only: bool,
    sniffing: bool,
    /// Why the compressed stream could not even start, reported at the first line.
    broken_start: Option<String>,
    path: std::path::PathBuf,
    read: Arc<AtomicU64>,
    hasher: Arc<Mutex<Sha256>>,
    /// Lines read as Windows-1252, and lines with UTF-8 beyond ASCII.
    pub(crate) windows_1252_lines: u64,
    pub(crate) utf8_lines: u64,
    pub(crate) facts: SourceFacts,
}

impl LineSource {
    /// Opens `path`; `read` counts the bytes taken from the file.
    pub(crate) fn open(
        path: &Path,
        encoding: LeakEncoding,
        limit: usize,
        read: Arc<AtomicU64>,
    ) -> Result<Self> {
        let shown = path.display().to_string();
        let io_error = |source| Error::Io {
            file: shown.clone(),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        let size = file.metadata().map_err(io_error)?.len();
        let hasher = Arc::new(Mutex::new(Sha256::new()));
        let mut counted = BufReader::with_capacity(
            BUFFER_BYTES,
            Counting {
                inner: file,
                read: Arc::clone(&read),
                hasher: Arc::clone(&hasher),
            },
        );
        let gzip = counted.fill_buf().map_err(io_error)?.starts_with(&[0x1f, 0x8b]);
        let mut plain: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(
                BUFFER_BYTES,
                MultiGzDecoder::new(counted),
            ))
        } else {
            Box::new(counted)
        };
        // A broken compressed stream shows here already (a bad gzip header): the reading then
        // ends at once, and says why.
        let (head, broken_start) = match plain.fill_buf() {
            Ok(head) => (head.to_vec(), None),
            Err(error) => (Vec::new(), Some(describe_stop(&error))),
        };
        let utf16 = match encoding {
            LeakEncoding::Utf16 => Some(utf16_kind(&head).unwrap_or(encoding_rs::UTF_16LE)),
            LeakEncoding::Auto => utf16_kind(&head),
            LeakEncoding::Utf8 | LeakEncoding::Windows1252 => None,
        };
        let inner: Box<dyn BufRead + Send> = match utf16 {
            Some(kind) => Box::new(BufReader::with_capacity(
                BUFFER_BYTES,
                Utf16ToUtf8 {
                    inner: plain,
                    decoder: kind.new_decoder_with_bom_removal(),
                    input: Vec::new(),
                    output: Vec::new(),
                    start: 0,
                    done: false,
                },
            )),
            None => plain,
        };
        Ok(LineSource {
            file: shown,
            inner,
            decoding: if encoding == LeakEncoding::Windows1252 {
                LineDecoding::Windows1252
            } else {
                LineDecoding::Utf8
            },
            limit,
            line: 0,
            raw: Vec::new(),
            text: String::new(),
            ended: broken_start.is_some(),
            nul_only: false,
            sniffing: false,
            broken_start,
            path: path.to_owned(),
            read,
            hasher,
            windows_1252_lines: 0,
            utf8_lines: 0,
            facts: SourceFacts {
                gzip,
                utf16: utf16.is_some(),
                size,
            },
        })
    }

    /// The SHA-256 of the whole file as it is on disk: from what was read, or, when reading
    /// stopped early, by reading the file again.
    pub(crate) fn sha256(&self) -> Result<[u8; 32]> {
        if self.read.load(Ordering::Relaxed) >= self.facts.size {
            let hasher = self.hasher.lock().unwrap_or_else(PoisonError::into_inner).clone();
            return Ok(hasher.finalize().into());
        }
        let io_error = |source| Error::Io {
            file: self.file.clone(),
            source,
        };
        let mut file = File::open(&self.path).map_err(io_error)?;
        let mut hasher = Sha256::new();
        let mut block = vec![0u8; BUFFER_BYTES];
        loop {
            let count = file.read(&mut block).map_err(io_error)?;
            if count == 0 {
                return Ok(hasher.finalize().into());
            }
            hasher.update(block.get(..count).unwrap_or_default());
        }
    }

    /// Counts only lines with a NUL byte as binary, and reads a line that is not UTF-8 as UTF-8
    /// with the bad bytes replaced (for SQL dumps, whose binary columns are written raw).
    pub(crate) fn set_nul_only(&mut self, nul_only: bool) {
        self.nul_only = nul_only;
    }

    /// Lets only lines with a NUL byte count as binary while the format is being detected.
    pub(crate) fn set_sniffing(&mut self, sniffing: bool) {
        self.sniffing = sniffing;
    }

    /// The file as named in messages.
    pub(crate) fn file(&self) -> &str {
        &self.file
    }

    /// The next readable line (without its line break) and its 1-based number; lines that
    /// cannot be read are counted in `problems` and skipped. `None` at the end of what could be
    /// read.
    pub(crate) fn next_line(&mut self, problems: &mut Problems) -> Option<(u64, &str)> {
        if let Some(why) = self.broken_start.take() {
            problems.stopped(1, why);
        }
        loop {
            if self.ended {
                return None;
            }
            let too_long = match self.read_raw() {
                Ok(Some(too_long)) => too_long,
                Ok(None) => {
                    self.ended = true;
                    return None;
                }
                Err(error) => {
                    self.ended = true;
                    problems.stopped(self.line + 1, describe_stop(&error));
                    return None;
                }
            };
            self.line += 1;
            if too_long {
                problems.add(Problem::TooLong, self.line);
                continue;
            }
            if self.line == 1 && self.raw.starts_with(b"\xEF\xBB\xBF") {
                self.raw.drain(..3);
            }
            let binary = if self.nul_only || self.sniffing {
                memchr::memchr(0, &self.raw).is_some()
            } else {
                is_binary(&self.raw)
            };
            if binary {
                problems.add(Problem::Binary, self.line);
                continue;
            }
            self.decode();
            return Some((self.line, self.text.as_str()));
        }
    }

    fn decode(&mut self) {
        self.text.clear();
        if self.decoding == LineDecoding::Utf8 {
            // A line of UTF-8 is its own text: the two buffers change places, nothing is copied.
            let spare = std::mem::take(&mut self.text).into_bytes();
            let raw = std::mem::replace(&mut self.raw, spare);
            match String::from_utf8(raw) {
                Ok(text) => {
                    if !text.is_ascii() {
                        self.utf8_lines += 1;
                    }
                    self.text = text;
                    return;
                }
                Err(error) => {
                    self.raw = error.into_bytes();
                    // A dump's line with raw binary bytes is still UTF-8 around them.
                    if self.nul_only {
                        self.text.push_str(&String::from_utf8_lossy(&self.raw));
                        return;
                    }
                    self.windows_1252_lines += 1;
                }
            }
        }
        if self.decoding == LineDecoding::Windows1252 && !self.raw.is_ascii() {
            self.windows_1252_lines += 1;
        }
        let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&self.raw);
        self.text.push_str(&text);
    }

    /// Reads one raw line into `raw` (line break removed); `Some(true)` when it was longer than
    /// the limit (the rest was read past, never held), `None` at the end.
    fn read_raw(&mut self) -> io::Result<Option<bool>> {
        self.raw.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (piece, found) = match memchr::memchr(b'\n', available) {
                Some(position) => (available.get(..position).unwrap_or_default(), Some(position)),
                None => (available, None),
            };
            if !too_long {
                if self.raw.len() + piece.len() > self.limit {
                    too_long = true;
                    self.raw.clear();
                } else {
                    self.raw.extend_from_slice(piece);
                }
            }
            let consumed = found.map_or(available.len(), |position| position + 1);
            self.inner.consume(consumed);
            if found.is_some() {
                break;
            }
        }
        if self.raw.last() == Some(&b'\r') {
            self.raw.pop();
        }
        Ok(Some(too_long))
    }
}

/// UTF-16 by byte order mark, or by zero bytes in every other place of the first block.
fn utf16_kind(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if head.starts_with(&[0xFF, 0xFE]) {
        return Some(encoding_rs::UTF_16LE);
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Some(encoding_rs::UTF_16BE);
    }
    let sample = head.get(..head.len().min(4096) & !1).unwrap_or_default();
    if sample.len() < 16 {
        return None;
    }
    let pairs = sample.len() / 2;
    let zero_at = |offset: usize| {
        sample
            .iter()
            .skip(offset)
            .step_by(2)
            .filter(|byte| **byte == 0)
            .count()
    };
    let (even, odd) = (zero_at(0), zero_at(1));
    if odd * 10 >= pairs * 9 && even * 10 < pairs {
        Some(encoding_rs::UTF_16LE)
    } else if even * 10 >= pairs * 9 && odd * 10 < pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// A line with a NUL byte, with three control characters text never holds, or with more than
/// one control character in eight, is not text.
pub(crate) fn is_binary(line: &[u8]) -> bool {
    if !has_control(line) {
        return false;
    }
    if memchr::memchr(0, line).is_some() {
        return true;
    }
    let never_in_text = line
        .iter()
        .filter(|byte| matches!(**byte, 0x01..=0x08 | 0x0e..=0x1a | 0x1c..=0x1f | 0x7f))
        .count();
    let controls = line
        .iter()
        .filter(|byte| **byte < 0x20 && **byte != b'\t' && **byte != b'\r')
        .count();
    never_in_text >= 3 || controls * 8 > line.len()
}

/// Whether a line holds a control character other than a tab (a NUL is one). Nearly every
/// line holds none, so the whole line is read: in blocks of 32 bytes with no early exit, which
/// the compiler turns into a few vector instructions a block, where a test that stops at the
/// first control byte reads one byte at a time.
fn has_control(line: &[u8]) -> bool {
    let control = |byte: &u8| (*byte < 0x20) & (*byte != b'\t');
    let (blocks, rest) = line.as_chunks::<32>();
    blocks
        .iter()
        .any(|block| block.iter().fold(false, |seen, byte| seen | control(byte)))
        || rest.iter().any(control)
}

fn describe_stop(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::UnexpectedEof => {
            "the compressed file ends early (truncated); what came before was read".into()
        }
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
            format!("the compressed data is broken here ({error}); what came before was read")
        }
        _ => format!("reading stopped: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_lines_are_told_from_text() {
        assert!(is_binary(b"abc\0def"));
        assert!(is_binary(b"\x01\x02\x03\x04abc"));
        assert!(!is_binary(b"alex@example.org\tSmith"));
        assert!(!is_binary("Zoë".as_bytes()));
    }

    #[test]
    fn a_control_byte_is_found_wherever_it_sits() {
        for length in [0, 1, 31, 32, 33, 64, 100] {
            let clean: Vec<u8> = (0..length)
                .map(|at| {
                    if at % 7 == 3 {
                        b'\t'
                    } else {
                        b'a' + (at % 26) as u8
                    }
                })
                .collect();
            assert!(!has_control(&clean), "length {length}");
            for at in 0..length {
                for byte in [0, 0x01, 0x0a, 0x0d, 0x1f] {
                    let mut line = clean.clone();
                    line[at] = byte;
                    assert!(has_control(&line), "byte {byte:#x} at {at} of {length}");
                }
                let mut line = clean.clone();
                line[at] = 0x20;
                assert!(!has_control(&line));
            }
        }
        // Random lines, control and high bytes among them: the same answer as a test of every
        // byte alone.
        let mut random = fastrand::Rng::with_seed(11);
        let alphabet = [
            b'a', b' ', b'\t', b'\r', 0, 0x01, 0x1b, 0x1f, 0x7f, 0x80, 0xc3, 0xff,
        ];
        for _ in 0..20_000 {
            let line: Vec<u8> = (0..random.usize(0..80))
                .map(|_| {
                    if random.u8(..) < 230 {
                        b'x'
                    } else {
                        alphabet[random.usize(..alphabet.len())]
                    }
                })
                .collect();
            let any = line.iter().any(|byte| *byte < 0x20 && *byte != b'\t');
            assert_eq!(has_control(&line), any, "{line:?}");
        }
        // The slow test decides once a control byte is there: a lone line break is text.
        assert!(!is_binary(b"first line\r"));
        assert!(is_binary(b"\x00"));
    }

    #[test]
    fn utf16_is_found_without_a_mark() {
        let text: Vec<u8> = "email,name\nalex@example.org,Alex\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(utf16_kind(&text), Some(encoding_rs::UTF_16LE));
        assert_eq!(utf16_kind(b"email,name\nalex@example.org,Alex\n"), None);
    }
}
