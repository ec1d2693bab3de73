//! Reading a leaked file, whatever shape it comes in: delimited text, JSON lines, SQL dumps and
//! combo lists; UTF-8, UTF-16 or Windows-1252; plain or gzip. Records come out in batches with
//! each field's role (the identifier it holds), decided by column name and, where names say
//! nothing, by the shape of the first values. Memory does not grow with the file; what cannot
//! be read is counted with its first line numbers, and reading carries on.

mod batch;
mod combo;
mod delimited;
mod detect;
mod jsonl;
mod names;
mod problems;
mod roles;
mod source;
mod sql;
mod values;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use custody_core::{CategoryKey, DateOrder};

pub use batch::{Batch, Column, Record};
pub use detect::{DetectedFormat, LeakFormat};
pub use problems::{Problem, ProblemCount, Problems};
pub use roles::Role;
pub use source::{LeakEncoding, SourceFacts};
pub use values::{OrderVotes, Readings, leak_day, leak_days};

use batch::{Columns, Out};
use source::LineSource;

use crate::error::Result;

/// Lines read to detect the format and the columns' roles.
const SNIFF_LINES: usize = 500;
/// Bytes read to detect the format.
const SNIFF_BYTES: usize = 256 * 1024;
/// Records in a batch, and the text a batch holds before it is handed out.
const BATCH_RECORDS: usize = 4096;
const BATCH_TEXT_BYTES: usize = 2 * 1024 * 1024;
/// Values per column looked at to decide a role by shape.
const SHAPE_SAMPLES: usize = 200;

/// How to read a leaked file.
#[derive(Debug, Clone, Copy)]
pub struct LeakOptions {
    /// The format, or `Auto`.
    pub format: LeakFormat,
    /// The encoding, or `Auto`.
    pub encoding: LeakEncoding,
    /// Longest line read; longer ones are skipped and counted.
    pub line_bytes_max: usize,
}

impl Default for LeakOptions {
    fn default() -> Self {
        LeakOptions {
            format: LeakFormat::Auto,
            encoding: LeakEncoding::Auto,
            line_bytes_max: 16 * 1024 * 1024,
        }
    }
}

enum Parser {
    Delimited(delimited::Delimited),
    Jsonl,
    Sql(Box<sql::Sql>),
    Combo,
}

impl Parser {
    fn line(&mut self, line: u64, text: &str, out: &mut Out<'_>) {
        match self {
            Parser::Delimited(parser) => parser.line(line, text, out),
            Parser::Jsonl => jsonl::line(line, text, out),
            Parser::Sql(parser) => parser.line(line, text, out),
            Parser::Combo => combo::line(line, text, out),
        }
    }

    fn finish(&mut self, out: &mut Out<'_>) {
        match self {
            Parser::Delimited(parser) => parser.finish(out),
            Parser::Sql(parser) => parser.finish(out),
            Parser::Jsonl | Parser::Combo => {}
        }
    }
}

/// A leaked file being read; see the module documentation.
pub struct LeakReader {
    source: LineSource,
    parser: Parser,
    columns: Columns,
    problems: Problems,
    format: DetectedFormat,
    first: Option<Batch>,
    finished: bool,
    lines: u64,
    date_order: Option<DateOrder>,
}

/// The order the dates of birth in the first records prove.
fn date_order(first: &Batch) -> Option<DateOrder> {
    let mut votes = OrderVotes::default();
    for record in first.records() {
        for (role, value) in record.fields() {
            if role == Role::DateOfBirth {
                votes.add(value);
            }
        }
    }
    votes.decided()
}

impl LeakReader {
    /// Opens `path`, detects what it is and reads its first lines. `read` counts the bytes
    /// taken from the file (for progress).
    pub fn open(path: &Path, options: LeakOptions, read: Arc<AtomicU64>) -> Result<Self> {
        let mut source = LineSource::open(path, options.encoding, options.line_bytes_max.max(1024), read)?;
        let mut problems = Problems::default();
        let mut sniffed: Vec<(u64, String)> = Vec::new();
        source.set_sniffing(true);
        let mut bytes = 0;
        while sniffed.len() < SNIFF_LINES && bytes < SNIFF_BYTES {
            let Some((line, text)) = source.next_line(&mut problems) else {
                break;
            };
            bytes += text.len();
            sniffed.push((line, text.to_owned()));
        }
        source.set_sniffing(false);
        let format = detect::detect(&sniffed, options.format);
        // mysqldump writes binary columns' bytes raw: in a dump only NUL means binary. In any
        // other file the lines read while detecting are held to the full test now.
        let sql = matches!(format, DetectedFormat::Sql { .. });
        source.set_nul_only(sql);
        if !sql {
            sniffed.retain(|(line, text)| {
                let binary = source::is_binary(text.as_bytes());
                if binary {
                    problems.add(Problem::Binary, *line);
                }
                !binary
            });
        }
        let mut parser = match format {
            DetectedFormat::Delimited { delimiter, header } => Parser::Delimited(delimited::Delimited::new(
                u8::try_from(delimiter).unwrap_or(b','),
                header,
            )),
            DetectedFormat::Jsonl => Parser::Jsonl,
            DetectedFormat::Sql { mysql } => Parser::Sql(Box::new(sql::Sql::new(mysql))),
            DetectedFormat::Combo => Parser::Combo,
        };
        let mut columns = Columns::default();
        let mut first = Batch::default();
        let mut lines = 0;
        {
            let mut out = Out {
                batch: &mut first,
                columns: &mut columns,
                problems: &mut problems,
            };
            for (line, text) in &sniffed {
                parser.line(*line, text, &mut out);
                lines = *line;
            }
        }
        let headerless = matches!(format, DetectedFormat::Delimited { header: false, .. });
        let samples = first.samples(SHAPE_SAMPLES);
        let unplaced = samples
            .iter()
            .filter(|(id, _)| columns.unplaced(**id))
            .map(|(id, values)| (*id, values.clone()))
            .collect();
        for (id, role) in roles::shape_roles(&unplaced, headerless) {
            columns.set_shape_role(id, role);
            first.set_role(id, role);
        }
        let date_order = date_order(&first);
        Ok(LeakReader {
            source,
            parser,
            columns,
            problems,
            format,
            first: Some(first),
            finished: false,
            lines,
            date_order,
        })
    }

    /// The order of day and month the dates of birth in the file's first lines proved; `None`
    /// when they proved none (or both): a date that reads both ways is then matched both ways.
    pub fn date_order(&self) -> Option<DateOrder> {
        self.date_order
    }

    /// Gives a column a role its values proved against the ledger: the records read ahead
    /// and every later one carry it.
    pub fn prove_role(&mut self, column: u32, role: Role) {
        self.columns.set_shape_role(column, role);
        if let Some(column) = self.columns.list.get_mut(column as usize) {
            column.by_shape = false;
            column.by_ledger = true;
        }
        if let Some(first) = self.first.as_mut() {
            first.set_role(column, role);
        }
    }

    /// The records read ahead, each as (column, value) pairs, at most `rows` of them.
    pub fn sample_rows(&self, rows: usize) -> Vec<Vec<(u32, String)>> {
        self.first
            .iter()
            .flat_map(|first| first.records())
            .take(rows)
            .map(|record| {
                record
                    .columns()
                    .map(|(column, value)| (column, value.to_owned()))
                    .collect()
            })
            .collect()
    }

    /// Fills `batch` with the next records; `false` only when the file is done. A batch is cut
    /// between records, never inside one (an SQL row may run over lines).
    pub fn next_batch(&mut self, batch: &mut Batch) -> bool {
        batch.clear();
        if let Some(first) = self.first.take() {
            *batch = first;
            if !batch.is_empty() && !batch.is_open() {
                return true;
            }
        }
        let mut out = Out {
            batch,
            columns: &mut self.columns,
            problems: &mut self.problems,
        };
        loop {
            if self.finished {
                return !out.batch.is_empty();
            }
            let full = out.batch.len() >= BATCH_RECORDS || out.batch.text_len() >= BATCH_TEXT_BYTES;
            if full && !out.batch.is_open() {
                return true;
            }
            match self.source.next_line(out.problems) {
                Some((line, text)) => {
                    self.lines = line;
                    self.parser.line(line, text, &mut out);
                }
                None => {
                    self.parser.finish(&mut out);
                    out.batch.end();
                    self.finished = true;
                }
            }
        }
    }

    /// The SHA-256 of the file as it is on disk (call when the reading is done).
    pub fn sha256(&self) -> Result<[u8; 32]> {
        self.source.sha256()
    }

    /// The file as named in messages.
    pub fn file(&self) -> &str {
        self.source.file()
    }

    /// The format it is read as.
    pub fn format(&self) -> DetectedFormat {
        self.format
    }

    /// Compression, UTF-16 and size.
    pub fn facts(&self) -> SourceFacts {
        self.source.facts
    }

    /// The encoding the text turned out to be in.
    pub fn encoding(&self) -> &'static str {
        match (
            self.source.facts.utf16,
            self.source.utf8_lines,
            self.source.windows_1252_lines,
        ) {
            (true, _, _) => "utf-16",
            (false, _, 0) => "utf-8",
            (false, 0, _) => "windows-1252",
            (false, _, _) => "utf-8 with some lines in windows-1252",
        }
    }

    /// Lines read so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The columns met so far.
    pub fn columns(&self) -> &[Column] {
        &self.columns.list
    }

    /// The data categories the file's columns hold.
    pub fn categories(&self) -> BTreeSet<CategoryKey> {
        self.columns
            .list
            .iter()
            .filter_map(|column| column.category)
            .collect()
    }

    /// What could not be read.
    pub fn problems(&self) -> &Problems {
        &self.problems
    }
}
