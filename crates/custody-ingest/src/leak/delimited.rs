//! Delimited text (comma, semicolon, tab, pipe, `", "`), quoted or not, as leaks come: a quoted
//! field may run over lines; a quote that is never closed is read as a character after a
//! bounded wait, so one bad row cannot swallow the rest of the file.

use super::batch::Out;
use super::problems::Problem;

/// Lines a quoted field may run over before its quote is taken as broken.
const QUOTED_LINES_MAX: usize = 100;
/// Bytes a record may take while waiting for a closing quote.
const QUOTED_BYTES_MAX: usize = 1024 * 1024;

/// The delimited-text parser.
pub(crate) struct Delimited {
    delimiter: u8,
    /// Column numbers from the header row, if the file has one.
    header: Option<Vec<u32>>,
    expect_header: bool,
    pending: String,
    pending_line: u64,
    pending_lines: usize,
    value: String,
}

impl Delimited {
    pub(crate) fn new(delimiter: u8, header: bool) -> Self {
        Delimited {
            delimiter,
            header: None,
            expect_header: header,
            pending: String::new(),
            pending_line: 0,
            pending_lines: 0,
            value: String::new(),
        }
    }

    pub(crate) fn line(&mut self, line: u64, text: &str, out: &mut Out<'_>) {
        if self.pending_lines > 0 {
            self.pending.push('\n');
            self.pending.push_str(text);
            self.pending_lines += 1;
            if is_complete(&self.pending, self.delimiter) {
                let record = std::mem::take(&mut self.pending);
                self.pending_lines = 0;
                self.emit(self.pending_line, &record, false, out);
            } else if self.pending_lines >= QUOTED_LINES_MAX || self.pending.len() > QUOTED_BYTES_MAX {
                self.give_up(out);
            }
            return;
        }
        if text.is_empty() {
            return;
        }
        let quoted = memchr::memchr(b'"', text.as_bytes()).is_some();
        if !quoted || is_complete(text, self.delimiter) {
            // A line with no quote is read as leniently as it could be (its quotes, having
            // none, are ordinary characters): `split` does not look for one again.
            self.emit(line, text, !quoted, out);
        } else {
            self.pending.clear();
            self.pending.push_str(text);
            self.pending_line = line;
            self.pending_lines = 1;
        }
    }

    pub(crate) fn finish(&mut self, out: &mut Out<'_>) {
        if self.pending_lines > 0 {
            self.give_up(out);
        }
    }

    /// The open quote of the pending record is broken: its first line is read with the quote
    /// as a character, and the lines after it are read again on their own.
    fn give_up(&mut self, out: &mut Out<'_>) {
        let pending = std::mem::take(&mut self.pending);
        let first_line = self.pending_line;
        self.pending_lines = 0;
        let mut lines = pending.split('\n');
        out.problems.add(Problem::BrokenQuoting, first_line);
        if let Some(first) = lines.next() {
            self.emit(first_line, first, true, out);
        }
        for (offset, rest) in lines.enumerate() {
            self.line(first_line + 1 + offset as u64, rest, out);
        }
    }

    fn emit(&mut self, line: u64, text: &str, lenient: bool, out: &mut Out<'_>) {
        if self.expect_header {
            self.expect_header = false;
            let mut ids = Vec::new();
            let mut index = 0;
            split(text, self.delimiter, lenient, &mut self.value, &mut |value| {
                ids.push(if value.trim().is_empty() {
                    out.columns.positional(index)
                } else {
                    out.columns.id(value.trim())
                });
                index += 1;
            });
            self.header = Some(ids);
            return;
        }
        out.batch.begin(line);
        let mut index = 0;
        let header = self.header.as_deref();
        split(text, self.delimiter, lenient, &mut self.value, &mut |value| {
            let column = match header.and_then(|ids| ids.get(index)) {
                Some(id) => *id,
                None => out.columns.positional(index),
            };
            out.field(column, value);
            index += 1;
        });
        out.batch.end();
    }
}

/// Splits `text` at every delimiter byte, a quote being an ordinary character (a line with no
/// `"`, or one read leniently). Eight bytes are compared with the delimiter at a time, as one
/// word, instead of a new search for each field, whose start-up costs more than a leaked row's
/// short fields take to read.
fn split_plain(text: &str, delimiter: u8, field: &mut dyn FnMut(&str)) {
    const LOW: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let bytes = text.as_bytes();
    let spread = u64::from(delimiter) * 0x0101_0101_0101_0101;
    let mut start = 0;
    let mut emit = |end: usize| {
        field(text.get(start..end).unwrap_or(""));
        start = end + 1;
    };
    let (words, rest) = bytes.as_chunks::<8>();
    for (number, word) in words.iter().enumerate() {
        // The high bit of every byte equal to the delimiter, and of no other (no carry runs
        // from one byte into the next: each byte's low seven bits are added on their own).
        // Little-endian on every target, so byte `i` is bits `8 i` to `8 i + 7`.
        let same = u64::from_le_bytes(*word) ^ spread;
        let mut found = !(((same & LOW) + LOW) | same | LOW);
        while found != 0 {
            emit(number * 8 + found.trailing_zeros() as usize / 8);
            found &= found - 1;
        }
    }
    let offset = words.len() * 8;
    for (at, byte) in rest.iter().enumerate() {
        if *byte == delimiter {
            emit(offset + at);
        }
    }
    field(text.get(start..).unwrap_or(""));
}

/// Whether every quoted field of `text` is closed.
pub(crate) fn is_complete(text: &str, delimiter: u8) -> bool {
    let bytes = text.as_bytes();
    let mut position = 0;
    loop {
        while bytes.get(position) == Some(&b' ') {
            position += 1;
        }
        if bytes.get(position) == Some(&b'"') {
            position += 1;
            loop {
                match memchr::memchr(b'"', bytes.get(position..).unwrap_or_default()) {
                    None => return false,
                    Some(offset) => {
                        position += offset + 1;
                        if bytes.get(position) == Some(&b'"') {
                            position += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
        }
        match memchr::memchr(delimiter, bytes.get(position..).unwrap_or_default()) {
            None => return true,
            Some(offset) => position += offset + 1,
        }
    }
}

/// Splits a complete record into fields, calling `field` for each. Leading spaces before a
/// quote are skipped (`a, "b"`); with `lenient` a quote is an ordinary character.
pub(crate) fn split(
    text: &str,
    delimiter: u8,
    lenient: bool,
    scratch: &mut String,
    field: &mut dyn FnMut(&str),
) {
    let bytes = text.as_bytes();
    if lenient || memchr::memchr(b'"', bytes).is_none() {
        split_plain(text, delimiter, field);
        return;
    }
    let mut position = 0;
    loop {
        let mut start = position;
        while bytes.get(start) == Some(&b' ') {
            start += 1;
        }
        if bytes.get(start) == Some(&b'"') {
            scratch.clear();
            let mut cursor = start + 1;
            loop {
                let rest = bytes.get(cursor..).unwrap_or_default();
                match memchr::memchr(b'"', rest) {
                    None => {
                        scratch.push_str(text.get(cursor..).unwrap_or(""));
                        cursor = bytes.len();
                        break;
                    }
                    Some(offset) => {
                        scratch.push_str(text.get(cursor..cursor + offset).unwrap_or(""));
                        cursor += offset + 1;
                        if bytes.get(cursor) == Some(&b'"') {
                            scratch.push('"');
                            cursor += 1;
                        } else {
                            break;
                        }
                    }
                }
            }
            // Anything between the closing quote and the delimiter is kept.
            let end = memchr::memchr(delimiter, bytes.get(cursor..).unwrap_or_default())
                .map(|offset| cursor + offset);
            scratch.push_str(text.get(cursor..end.unwrap_or(bytes.len())).unwrap_or(""));
            field(scratch);
            match end {
                Some(end) => position = end + 1,
                None => return,
            }
        } else {
            match memchr::memchr(delimiter, bytes.get(position..).unwrap_or_default()) {
                Some(offset) => {
                    field(text.get(position..position + offset).unwrap_or(""));
                    position += offset + 1;
                }
                None => {
                    field(text.get(position..).unwrap_or(""));
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str, delimiter: u8, lenient: bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut scratch = String::new();
        split(text, delimiter, lenient, &mut scratch, &mut |value| {
            out.push(value.to_owned())
        });
        out
    }

    /// The splitting of each field to the next, as it was before lines without quotes were
    /// split eight bytes at a time.
    fn fields_one_by_one(text: &str, delimiter: u8) -> Vec<String> {
        let mut out = Vec::new();
        let mut position = 0;
        loop {
            match memchr::memchr(delimiter, &text.as_bytes()[position..]) {
                Some(offset) => {
                    out.push(text[position..position + offset].to_owned());
                    position += offset + 1;
                }
                None => {
                    out.push(text[position..].to_owned());
                    return out;
                }
            }
        }
    }

    #[test]
    fn lines_without_quotes_split_at_every_delimiter_as_one_by_one() {
        let mut rng = fastrand::Rng::with_seed(8);
        // Bytes a wrong word-at-a-time test would take for a delimiter: the delimiter with its
        // top bit set (`»` holds 0xbb, `É` 0x89, `本` 0xac) or its lowest bit changed.
        let pieces = [
            "a", "bb", "é", "ß", " ", "x y", "日本", "»", "É", "\t", ",", ";", "|", "'", "-", ":", "}",
            "\u{8}",
        ];
        for delimiter in [b',', b';', b'\t', b'|'] {
            // Lengths around whole words of 8 bytes and more, delimiters at their edges, empty
            // fields, tails of every length.
            for length in [0, 1, 2, 5, 7, 8, 9, 30, 63, 64, 65, 127, 128, 129, 300] {
                for _ in 0..40 {
                    let mut text = String::new();
                    while text.len() < length {
                        text.push_str(rng.choice(&pieces).unwrap());
                    }
                    assert_eq!(
                        fields(&text, delimiter, false),
                        fields_one_by_one(&text, delimiter),
                        "{text:?}"
                    );
                    // Read leniently, a quote is a character like any other, wherever it is.
                    text.insert(0, '"');
                    text.push('"');
                    let middle = (0..=text.len() / 2).rev().find(|at| text.is_char_boundary(*at));
                    text.insert(middle.unwrap(), '"');
                    assert_eq!(
                        fields(&text, delimiter, true),
                        fields_one_by_one(&text, delimiter)
                    );
                }
            }
            let edges = format!(
                "{0}{1}{0}{2}{0}",
                char::from(delimiter),
                "a".repeat(62),
                "b".repeat(63)
            );
            assert_eq!(
                fields(&edges, delimiter, false),
                fields_one_by_one(&edges, delimiter)
            );
        }
    }

    #[test]
    fn quoting() {
        assert_eq!(fields("a,b,,c", b',', false), ["a", "b", "", "c"]);
        assert_eq!(
            fields(r#""a,1","b ""x""",c"#, b',', false),
            ["a,1", r#"b "x""#, "c"]
        );
        assert_eq!(fields(r#"a, "b, c", d"#, b',', false), ["a", "b, c", " d"]);
        assert_eq!(fields("x\t\"y\"z\tw", b'\t', false), ["x", "yz", "w"]);
        assert_eq!(fields(r#"a,"b,c"#, b',', true), ["a", "\"b", "c"]);
        assert!(is_complete(r#"a,"b""c",d"#, b','));
        assert!(!is_complete(r#"a,"b"#, b','));
        assert!(
            is_complete(r#"a,b"c,d"#, b','),
            "a quote inside a field is a character"
        );
    }
}
