//! Refuses a record longer than the limit before it is buffered. A record ends at an unquoted
//! line feed or carriage return; a quoted field's own line breaks do not reset the count, so one
//! endless quoted field cannot exhaust memory.
//!
//! Bytes are followed one at a time only where quotes are: a block of the file with no quote
//! (most blocks of most exports) is checked by finding its line breaks, which reaches the same
//! state, line count and refusal (tested against the byte-at-a-time reading).

use std::io::{self, Read};

/// A reader that counts lines and refuses a record over `limit` bytes.
pub(crate) struct LineLimit<R> {
    inner: R,
    run: usize,
    line: u64,
    limit: usize,
    delimiter: u8,
    state: FieldState,
}

/// Where the limiter is in a CSV field: enough of the grammar to know which line breaks end a
/// record (a quote opens a quoted field only at the start of a field, as the csv crate reads it).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FieldState {
    Start,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R> LineLimit<R> {
    pub(crate) fn new(inner: R, limit: usize, delimiter: u8) -> Self {
        LineLimit {
            inner,
            run: 0,
            line: 1,
            limit,
            delimiter,
            state: FieldState::Start,
        }
    }

    /// The reader limited.
    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    fn too_long(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the record ending near line {} is longer than {} bytes, the longest accepted",
                self.line, self.limit
            ),
        )
    }

    /// Follows `bytes`, whichever way is faster.
    fn follow(&mut self, bytes: &[u8]) -> io::Result<()> {
        let outside_quotes = matches!(self.state, FieldState::Start | FieldState::Unquoted);
        if outside_quotes && memchr::memchr(b'"', bytes).is_none() {
            self.follow_unquoted(bytes)
        } else {
            self.follow_each(bytes)
        }
    }

    /// Follows bytes that hold no quote, from outside a quoted field: every line break ends a
    /// record, and the bytes between two are one record's.
    fn follow_unquoted(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut from = 0;
        for at in memchr::memchr2_iter(b'\n', b'\r', bytes) {
            self.run += at - from;
            if self.run > self.limit {
                return Err(self.too_long());
            }
            if bytes.get(at) == Some(&b'\n') {
                self.line += 1;
            }
            self.run = 0;
            from = at + 1;
        }
        self.run += bytes.len() - from;
        if self.run > self.limit {
            return Err(self.too_long());
        }
        if let Some(last) = bytes.last() {
            self.state = if *last == self.delimiter || *last == b'\n' || *last == b'\r' {
                FieldState::Start
            } else {
                FieldState::Unquoted
            };
        }
        Ok(())
    }

    /// Follows bytes one at a time.
    fn follow_each(&mut self, bytes: &[u8]) -> io::Result<()> {
        for byte in bytes {
            if *byte == b'\n' {
                self.line += 1;
            }
            let line_break = *byte == b'\n' || *byte == b'\r';
            self.state = match (self.state, *byte) {
                (FieldState::Quoted, b'"') => FieldState::QuoteInQuoted,
                (FieldState::Quoted, _) => FieldState::Quoted,
                (FieldState::QuoteInQuoted, b'"') => FieldState::Quoted,
                (FieldState::Start, b'"') => FieldState::Quoted,
                (_, byte) if byte == self.delimiter || line_break => FieldState::Start,
                _ => FieldState::Unquoted,
            };
            if line_break && self.state == FieldState::Start {
                self.run = 0;
                continue;
            }
            self.run += 1;
            if self.run > self.limit {
                return Err(self.too_long());
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.follow(buffer.get(..count).unwrap_or_default())?;
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The state a limiter reached, or the message it refused with.
    fn outcome(limiter: &LineLimit<()>, result: io::Result<()>) -> Result<(usize, u64, FieldState), String> {
        result
            .map(|()| (limiter.run, limiter.line, limiter.state))
            .map_err(|error| error.to_string())
    }

    #[test]
    fn blocks_without_quotes_end_as_byte_at_a_time_reading_does() {
        let mut rng = fastrand::Rng::with_seed(3);
        let alphabet = [b'a', b'b', b',', b';', b'"', b'\n', b'\r', b' '];
        for case in 0..20_000 {
            let limit = rng.usize(1..12);
            let delimiter = if case % 2 == 0 { b',' } else { b';' };
            let (mut fast, mut slow) = (
                LineLimit::new((), limit, delimiter),
                LineLimit::new((), limit, delimiter),
            );
            // Several blocks, as reads give them: quotes in some, none in most.
            for _ in 0..rng.usize(1..5) {
                let quotes = rng.u8(0..4) == 0;
                let block: Vec<u8> = (0..rng.usize(0..40))
                    .map(|_| {
                        loop {
                            let byte = alphabet[rng.usize(..alphabet.len())];
                            if quotes || byte != b'"' {
                                break byte;
                            }
                        }
                    })
                    .collect();
                let (a, b) = (fast.follow(&block), slow.follow_each(&block));
                let (a, b) = (outcome(&fast, a), outcome(&slow, b));
                assert_eq!(
                    a,
                    b,
                    "case {case}: limit {limit}, block {:?}",
                    String::from_utf8_lossy(&block)
                );
                if a.is_err() {
                    break;
                }
            }
        }
    }
}
