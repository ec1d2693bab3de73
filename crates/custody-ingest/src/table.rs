//! A delimited text file read row by row: encoding (UTF-8 with or without BOM, Windows-1252,
//! or UTF-16 by its byte order mark or shape) and delimiter (comma, semicolon, tab, pipe) are detected from the first block,
//! every line is held to a length limit, and the file's SHA-256 is computed as it streams.

use std::fs::File;
use std::io::{self, Chain, Cursor, Read};
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::line_limit::LineLimit;

/// Bytes read to detect encoding and delimiter.
const SNIFF_BYTES: usize = 64 * 1024;

/// Limits and choices for reading a table.
#[derive(Debug, Clone, Copy)]
pub struct TableOptions {
    /// Longest line accepted, in bytes.
    pub line_bytes_max: usize,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            line_bytes_max: 1024 * 1024,
        }
    }
}

/// The layered byte source: sniffed prefix then the rest, hashed, length-limited, decoded.
type Source = Decode<LineLimit<Decode<Chain<Cursor<Vec<u8>>, Hashing<File>>>>>;

/// A table being read; see the module documentation.
pub struct Table {
    file: String,
    reader: csv::Reader<Source>,
    headers: Vec<String>,
    encoding: &'static str,
    delimiter: u8,
    /// Lines end in CR LF: the CSV reader names a record by the line it was on when the
    /// previous record's CR ended it, one before the record's own (its LF is counted after).
    crlf: bool,
    /// The line where a footer began (Salesforce reports end with a blank line, then
    /// "Confidential Information - Do Not Distribute" and a copyright line).
    footer: Option<u64>,
}

impl Table {
    /// Opens `path` and reads its header row. `shown` is the name used in messages.
    pub fn open(path: &Path, options: TableOptions) -> Result<Self> {
        let shown = path.display().to_string();
        let io_error = |source| Error::Io {
            file: shown.clone(),
            source,
        };
        let file = File::open(path).map_err(io_error)?;
        let mut hashing = Hashing {
            inner: file,
            hasher: Sha256::new(),
        };
        let mut prefix = Vec::with_capacity(SNIFF_BYTES);
        (&mut hashing)
            .take(SNIFF_BYTES as u64)
            .read_to_end(&mut prefix)
            .map_err(io_error)?;
        let utf16 = utf16_kind(&prefix);
        if let Some(position) = prefix
            .iter()
            .position(|byte| *byte == 0)
            .filter(|_| utf16.is_none())
        {
            return Err(Error::at(
                &shown,
                Some(line_of(&prefix, position)),
                None,
                "this is not a text file (it contains NUL bytes); expected CSV or TSV text",
            ));
        }
        // UTF-16 (EveryAction's report downloads, old Google Contacts exports) is decoded
        // before anything else reads it; the sniffing below looks at the decoded start.
        let sniffed: Vec<u8> = match utf16 {
            Some(encoding) => encoding.decode(&prefix).0.into_owned().into_bytes(),
            None => prefix.clone(),
        };
        // The first block decides only when it is not UTF-8; otherwise the whole file is checked,
        // because a Windows-1252 export can be plain ASCII for its first thousands of rows.
        let windows_1252 =
            utf16.is_none() && (!looks_like_utf8(&prefix) || file_is_windows_1252(path).map_err(io_error)?);
        if utf16.is_none() && prefix.starts_with(b"\xEF\xBB\xBF") {
            prefix.drain(..3);
        }
        let sniffed = sniffed.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&sniffed);
        let delimiter = sniff_delimiter(sniffed);
        let crlf = sniffed
            .iter()
            .position(|byte| *byte == b'\n')
            .is_some_and(|position| position > 0 && sniffed.get(position - 1) == Some(&b'\r'));
        let source = LineLimit::new(
            Decode {
                inner: Cursor::new(prefix).chain(hashing),
                decoder: utf16.map(encoding_rs::Encoding::new_decoder),
                pending: Vec::new(),
                start: 0,
                done: false,
            },
            options.line_bytes_max,
            delimiter,
        );
        let decode = Decode {
            inner: source,
            decoder: windows_1252.then(|| encoding_rs::WINDOWS_1252.new_decoder()),
            pending: Vec::new(),
            start: 0,
            done: false,
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .has_headers(true)
            .from_reader(decode);
        let headers = reader
            .headers()
            .map_err(|error| csv_error(&shown, error))?
            .iter()
            .map(|header| header.trim().to_owned())
            .collect::<Vec<_>>();
        if headers.iter().all(String::is_empty) {
            return Err(Error::at(
                &shown,
                Some(1),
                None,
                "the file is empty; expected a header row naming its columns",
            ));
        }
        let encoding = match utf16 {
            Some(encoding) if encoding == encoding_rs::UTF_16BE => "utf-16be",
            Some(_) => "utf-16le",
            None if windows_1252 => "windows-1252",
            None => "utf-8",
        };
        Ok(Table {
            file: shown,
            reader,
            headers,
            encoding,
            delimiter,
            crlf,
            footer: None,
        })
    }

    /// The line where a report's footer began, once the file has been read to its end.
    pub fn footer(&self) -> Option<u64> {
        self.footer
    }

    /// Whether the rest of the file, from a single-field line, is a report's footer: a first line
    /// such as Salesforce writes ("Confidential Information - Do Not Distribute", "Copyright (c)
    /// … All rights reserved."), then only single-field lines to the end. It is then read past,
    /// not taken for rows, and [`Table::footer`] says where it began so that the import can say
    /// so. Any other short line is an error, as it always was.
    fn rest_is_footer(&mut self, record: &mut csv::StringRecord) -> Result<bool> {
        let first = record.get(0).unwrap_or("").trim().to_lowercase();
        let footer_like = first.starts_with("confidential information")
            || first.starts_with("copyright")
            || first.starts_with('©')
            || first.contains("all rights reserved");
        if self.headers.len() < 2 || !footer_like {
            return Ok(false);
        }
        while self
            .reader
            .read_record(record)
            .map_err(|error| csv_error(&self.file, error))?
        {
            if record.len() != 1 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The file as named in messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The header row, trimmed.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The detected encoding.
    pub fn encoding(&self) -> &'static str {
        self.encoding
    }

    /// The detected delimiter.
    pub fn delimiter(&self) -> char {
        char::from(self.delimiter)
    }

    /// Reads the next row into `record`; returns its 1-based line, or `None` at the end. A row
    /// with a different number of fields from the header is an error naming the line.
    pub fn next_row(&mut self, record: &mut csv::StringRecord) -> Result<Option<u64>> {
        loop {
            if !self
                .reader
                .read_record(record)
                .map_err(|error| csv_error(&self.file, error))?
            {
                return Ok(None);
            }
            let line = record.position().map_or(0, csv::Position::line) + u64::from(self.crlf);
            if record.len() == 1 && record.get(0).is_some_and(|field| field.trim().is_empty()) {
                continue;
            }
            if record.len() == 1 && self.headers.len() > 1 {
                if self.rest_is_footer(record)? {
                    self.footer = Some(line);
                    return Ok(None);
                }
                return Err(Error::at(
                    &self.file,
                    Some(line),
                    None,
                    format!(
                        "found 1 field; expected {} as in the header row",
                        self.headers.len()
                    ),
                ));
            }
            if record.len() != self.headers.len() {
                return Err(Error::at(
                    &self.file,
                    Some(line),
                    None,
                    format!(
                        "found {} fields; expected {} as in the header row",
                        record.len(),
                        self.headers.len()
                    ),
                ));
            }
            return Ok(Some(line));
        }
    }

    /// Reads whatever is left and returns the SHA-256 of the whole file.
    pub fn finish(self) -> Result<[u8; 32]> {
        let file = self.file;
        let mut decode = self.reader.into_inner();
        io::copy(&mut decode, &mut io::sink()).map_err(|source| Error::Io {
            file: file.clone(),
            source,
        })?;
        let (_, hashing) = decode.inner.into_inner().inner.into_inner();
        let mut hashing = hashing;
        io::copy(&mut hashing, &mut io::sink()).map_err(|source| Error::Io { file, source })?;
        Ok(hashing.hasher.finalize().into())
    }
}

fn csv_error(file: &str, error: csv::Error) -> Error {
    let line = error.position().map(csv::Position::line);
    match error.into_kind() {
        csv::ErrorKind::Io(source) if source.kind() == io::ErrorKind::InvalidData => {
            Error::at(file, line, None, source.to_string())
        }
        csv::ErrorKind::Io(source) => Error::Io {
            file: file.to_owned(),
            source,
        },
        csv::ErrorKind::Utf8 { pos, err } => Error::at(
            file,
            pos.map(|position| position.line()).or(line),
            Some(format!("{}", err.field() + 1)),
            "the text is not valid UTF-8 here; expected one encoding for the whole file (UTF-8 or Windows-1252)",
        ),
        other => Error::at(file, line, None, format!("{other:?}")),
    }
}

/// Whether a file whose start is UTF-8 is really Windows-1252: bytes that are not UTF-8 and no
/// UTF-8 character before them. A file with both is left as UTF-8, so that reading it stops at
/// the first bad line with an error rather than turning its earlier accents into mojibake.
fn file_is_windows_1252(path: &Path) -> io::Result<bool> {
    let mut file = File::open(path)?;
    let mut block = vec![0u8; 1024 * 1024];
    let mut carried = 0usize;
    let mut seen_utf8_characters = false;
    loop {
        let count = file.read(block.get_mut(carried..).unwrap_or_default())?;
        let filled = carried + count;
        let data = block.get(..filled).unwrap_or_default();
        let (valid, rest_ok) = match std::str::from_utf8(data) {
            Ok(_) => (filled, true),
            Err(error) if count > 0 && error.error_len().is_none() && filled - error.valid_up_to() < 4 => {
                (error.valid_up_to(), true)
            }
            Err(error) => (error.valid_up_to(), false),
        };
        seen_utf8_characters |= !data.get(..valid).unwrap_or_default().is_ascii();
        if !rest_ok {
            return Ok(!seen_utf8_characters);
        }
        if count == 0 {
            return Ok(false);
        }
        block.copy_within(valid..filled, 0);
        carried = filled - valid;
    }
}

/// Whether a block is UTF-8, allowing a character cut at the end of the block.
fn looks_like_utf8(block: &[u8]) -> bool {
    match std::str::from_utf8(block) {
        Ok(_) => true,
        Err(error) => error.error_len().is_none() && block.len() - error.valid_up_to() < 4,
    }
}

fn line_of(block: &[u8], position: usize) -> u64 {
    block.iter().take(position).filter(|byte| **byte == b'\n').count() as u64 + 1
}

/// The delimiter that occurs most on the first line outside quotes (comma when none does).
fn sniff_delimiter(block: &[u8]) -> u8 {
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for byte in block {
        match byte {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            _ if !quoted => {
                if let Some(index) = candidates.iter().position(|candidate| candidate == byte)
                    && let Some(count) = counts.get_mut(index)
                {
                    *count += 1;
                }
            }
            _ => {}
        }
    }
    let best = counts
        .iter()
        .enumerate()
        .max_by_key(|(index, count)| (**count, usize::MAX - index));
    match best {
        Some((index, count)) if *count > 0 => candidates.get(index).copied().unwrap_or(b','),
        _ => b',',
    }
}

/// Computes the SHA-256 of everything read through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.hasher.update(buffer.get(..count).unwrap_or_default());
        Ok(count)
    }
}

/// Passes UTF-8 through, or transcodes Windows-1252 to UTF-8.
struct Decode<R> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    pending: Vec<u8>,
    start: usize,
    done: bool,
}

impl<R: Read> Read for Decode<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let Some(decoder) = self.decoder.as_mut() else {
            return self.inner.read(buffer);
        };
        while self.start >= self.pending.len() {
            if self.done {
                return Ok(0);
            }
            let mut raw = [0u8; 16 * 1024];
            let count = self.inner.read(&mut raw)?;
            let last = count == 0;
            self.pending.clear();
            self.start = 0;
            self.pending
                .resize(decoder.max_utf8_buffer_length(count).unwrap_or(count * 3 + 16), 0);
            let (_, _, written, _) =
                decoder.decode_to_utf8(raw.get(..count).unwrap_or_default(), &mut self.pending, last);
            self.pending.truncate(written);
            self.done = last;
        }
        let available = self.pending.get(self.start..).unwrap_or_default();
        let count = available.len().min(buffer.len());
        if let (Some(target), Some(source)) = (buffer.get_mut(..count), available.get(..count)) {
            target.copy_from_slice(source);
        }
        self.start += count;
        Ok(count)
    }
}

/// The UTF-16 a file's first block is in: by byte order mark, or by a zero in every other
/// byte of a text of ASCII characters.
fn utf16_kind(prefix: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    if prefix.starts_with(&[0xFF, 0xFE]) {
        return Some(encoding_rs::UTF_16LE);
    }
    if prefix.starts_with(&[0xFE, 0xFF]) {
        return Some(encoding_rs::UTF_16BE);
    }
    let sample = prefix.get(..prefix.len().min(512) & !1).unwrap_or_default();
    if sample.len() < 16 {
        return None;
    }
    if sample
        .chunks(2)
        .all(|pair| pair.get(1) == Some(&0) && pair.first() != Some(&0))
    {
        return Some(encoding_rs::UTF_16LE);
    }
    sample
        .chunks(2)
        .all(|pair| pair.first() == Some(&0) && pair.get(1) != Some(&0))
        .then_some(encoding_rs::UTF_16BE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(bytes: &[u8]) -> Result<(Table, tempfile::NamedTempFile)> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        io::Write::write_all(&mut file, bytes).unwrap();
        Table::open(file.path(), TableOptions { line_bytes_max: 200 }).map(|table| (table, file))
    }

    fn rows(table: &mut Table) -> Vec<Vec<String>> {
        let mut record = csv::StringRecord::new();
        let mut out = Vec::new();
        while table.next_row(&mut record).unwrap().is_some() {
            out.push(record.iter().map(str::to_owned).collect());
        }
        out
    }

    #[test]
    fn reads_utf8_with_bom_and_semicolons() {
        let (mut table, _file) = table("\u{feff}id;name\r\n1;Zoë\r\n".as_bytes()).unwrap();
        assert_eq!(table.headers(), ["id", "name"]);
        assert_eq!(table.delimiter(), ';');
        assert_eq!(rows(&mut table), vec![vec!["1".to_owned(), "Zoë".to_owned()]]);
    }

    #[test]
    fn reads_windows_1252_and_tabs() {
        let (mut table, _file) = table(b"id\tname\n1\tZo\xEB\n").unwrap();
        assert_eq!(table.encoding(), "windows-1252");
        assert_eq!(rows(&mut table), vec![vec!["1".to_owned(), "Zoë".to_owned()]]);
    }

    #[test]
    fn reads_utf16_as_everyaction_writes_its_downloads() {
        let text = "VANID\tLast\tFirst\r\n101\tO'Connell\tSiobhán\r\n102\tWebb\tMarcus\r\n";
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let (mut read, file) = table(&bytes).unwrap();
        assert_eq!(read.encoding(), "utf-16le");
        assert_eq!(read.headers(), ["VANID", "Last", "First"]);
        assert_eq!(read.delimiter(), '\t');
        let mut record = csv::StringRecord::new();
        assert_eq!(read.next_row(&mut record).unwrap(), Some(2));
        assert_eq!(record.get(2), Some("Siobhán"));
        assert_eq!(
            read.next_row(&mut record).unwrap(),
            Some(3),
            "CRLF lines counted right"
        );
        assert_eq!(read.next_row(&mut record).unwrap(), None);
        // The digest is of the file's own bytes.
        let digest = read.finish().unwrap();
        let expected: [u8; 32] = Sha256::digest(std::fs::read(file.path()).unwrap()).into();
        assert_eq!(digest, expected);
        // Big-endian without a byte order mark is recognised by its shape.
        let bytes: Vec<u8> = "id,name\n1,Zoë\n"
            .encode_utf16()
            .flat_map(u16::to_be_bytes)
            .collect();
        let (mut read, _file) = table(&bytes).unwrap();
        assert_eq!(read.encoding(), "utf-16be");
        assert_eq!(rows(&mut read), vec![vec!["1".to_owned(), "Zoë".to_owned()]]);
    }

    #[test]
    fn windows_1252_after_a_long_ascii_start_is_recognised() {
        let mut bytes = b"id,name\n".to_vec();
        for index in 0..20_000 {
            bytes.extend_from_slice(format!("{index},plain\n").as_bytes());
        }
        bytes.extend_from_slice(b"99999,Zo\xEB\n");
        let (mut table, _file) = table(&bytes).unwrap();
        assert_eq!(table.encoding(), "windows-1252");
        let last = rows(&mut table).pop().unwrap();
        assert_eq!(last, vec!["99999".to_owned(), "Zoë".to_owned()]);
    }

    #[test]
    fn mixed_encodings_are_not_guessed() {
        let mut bytes = "id,name\n1,Zoë\n".as_bytes().to_vec();
        for index in 0..20_000 {
            bytes.extend_from_slice(format!("{index},plain\n").as_bytes());
        }
        bytes.extend_from_slice(b"99999,Zo\xEB\n");
        let (mut table, _file) = table(&bytes).unwrap();
        assert_eq!(
            table.encoding(),
            "utf-8",
            "accents already read as UTF-8 must not become mojibake"
        );
        let mut record = csv::StringRecord::new();
        let error = loop {
            match table.next_row(&mut record) {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the bad line must be an error"),
                Err(error) => break error.to_string(),
            }
        };
        assert!(
            error.contains("line 20003") && error.contains("not valid UTF-8"),
            "{error}"
        );
    }

    fn lines(table: &mut Table) -> Vec<u64> {
        let mut record = csv::StringRecord::new();
        let mut out = Vec::new();
        while let Some(line) = table.next_row(&mut record).unwrap() {
            out.push(line);
        }
        out
    }

    #[test]
    fn lines_are_named_as_an_editor_numbers_them() {
        for ending in ["\n", "\r\n"] {
            let text =
                format!("id,note{ending}1,a{ending}2,\"two{ending}lines\"{ending}3,c{ending}4,d{ending}");
            let (mut table, _file) = table(text.as_bytes()).unwrap();
            assert_eq!(lines(&mut table), [2, 3, 5, 6], "{ending:?}");
        }
    }

    #[test]
    fn records_are_limited_not_physical_lines() {
        // Carriage returns alone end records (old Mac exports): many short records pass.
        let mut bytes = b"id,name\r".to_vec();
        for index in 0..100 {
            bytes.extend_from_slice(format!("{index},name\r").as_bytes());
        }
        let (mut mac, _mac_file) = table(&bytes).unwrap();
        assert_eq!(rows(&mut mac).len(), 100);
        // A quoted field's own line breaks count towards one record.
        let endless = format!("id,note\n1,\"{}\"\n", "x\n".repeat(150));
        let error = match table_result(endless.as_bytes()) {
            Ok((mut table, _file)) => table
                .next_row(&mut csv::StringRecord::new())
                .unwrap_err()
                .to_string(),
            Err(error) => error.to_string(),
        };
        assert!(error.contains("longer than 200 bytes"), "{error}");
        // A stray quote inside an unquoted field is a character, as the csv crate reads it.
        let stray = format!("id,name\n1,O\"Brien\n{}", "2,Smith\n".repeat(100));
        let (mut quoted, _quoted_file) = table(stray.as_bytes()).unwrap();
        assert_eq!(rows(&mut quoted).len(), 101);
    }

    fn table_result(bytes: &[u8]) -> Result<(Table, tempfile::NamedTempFile)> {
        table(bytes)
    }

    #[test]
    fn hashes_the_whole_file() {
        let bytes = b"id,name\n1,a\n2,b\n";
        let (mut table, _file) = table(bytes).unwrap();
        let _ = rows(&mut table);
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        assert_eq!(table.finish().unwrap(), digest);
    }

    #[test]
    fn refuses_binary_long_lines_and_ragged_rows() {
        let binary = table(b"id,name\n\x00\x01\x02").err().unwrap();
        assert!(binary.to_string().contains("not a text file"), "{binary}");
        // The reader buffers ahead, so the long line may be refused when the header is read.
        let mut record = csv::StringRecord::new();
        let error = match table(format!("id,name\n1,{}\n", "x".repeat(300)).as_bytes()) {
            Ok((mut long, _file)) => long.next_row(&mut record).unwrap_err().to_string(),
            Err(error) => error.to_string(),
        };
        assert!(error.contains("line 2 is longer than 200 bytes"), "{error}");
        let (mut ragged, _file) = table(b"id,name\n1,a\n2,b,c\n").unwrap();
        assert!(ragged.next_row(&mut record).unwrap().is_some());
        let error = ragged.next_row(&mut record).unwrap_err().to_string();
        assert!(
            error.contains("line 3") && error.contains("found 3 fields; expected 2"),
            "{error}"
        );
    }
}
