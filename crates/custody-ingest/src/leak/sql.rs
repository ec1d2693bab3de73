//! SQL dumps as mysqldump and `pg_dump` write them: `CREATE TABLE` gives column names,
//! `INSERT INTO t [(columns)] VALUES (…),(…);` gives rows (one statement may hold thousands and
//! run over lines), and `pg_dump`'s `COPY t (columns) FROM stdin;` blocks give tab-separated
//! rows. MySQL strings take backslash escapes; PostgreSQL's double their quotes (and `E'…'`
//! takes backslashes). Whatever cannot be read is skipped to the next statement.

use std::collections::HashMap;

use super::batch::Out;
use super::problems::Problem;

/// Longest statement text kept while reading a statement's head (`CREATE TABLE` included).
const STATEMENT_BYTES_MAX: usize = 1024 * 1024;
/// Longest value kept; the rest of a longer one is read past.
const VALUE_BYTES_MAX: usize = 64 * 1024;
/// Columns of one statement named; later values go to the last one.
const COLUMNS_MAX: usize = 4096;
/// Characters of a table or column name kept.
const NAME_CHARS_MAX: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reading a statement's text up to `;` or to `VALUES (`.
    Statement,
    /// Between or inside the tuples of an INSERT.
    Values,
    /// Inside a COPY block.
    Copy,
    /// Skipping a statement that could not be read, to its `;`.
    Skip,
    /// Reading the first word after an INSERT's rows.
    Trailer,
}

/// The SQL dump parser.
pub(crate) struct Sql {
    mysql: bool,
    mode: Mode,
    statement: Vec<u8>,
    just_closed: bool,
    quote: Option<u8>,
    /// The line the open quote began on.
    quote_line: u64,
    escape: bool,
    tables: HashMap<String, Vec<String>>,
    /// Column numbers of the statement being read (INSERT or COPY).
    columns: Vec<u32>,
    table: String,
    depth: usize,
    field: usize,
    value: Vec<u8>,
    quoted: bool,
    backslashes: bool,
}

impl Sql {
    /// `mysql` chooses backslash escapes in strings.
    pub(crate) fn new(mysql: bool) -> Self {
        Sql {
            mysql,
            mode: Mode::Statement,
            statement: Vec::new(),
            just_closed: false,
            quote_line: 0,
            quote: None,
            escape: false,
            tables: HashMap::new(),
            columns: Vec::new(),
            table: String::new(),
            depth: 0,
            field: 0,
            value: Vec::new(),
            quoted: false,
            backslashes: false,
        }
    }

    pub(crate) fn line(&mut self, line: u64, text: &str, out: &mut Out<'_>) {
        if self.mode == Mode::Copy {
            self.copy_line(line, text, out);
            return;
        }
        let lost = self.quote.is_some() || self.mode != Mode::Statement;
        if lost && starts_statement(text) {
            // A quote or parenthesis left open (a dialect's escape read the other way, a comment
            // custody does not know, a cut line) or a statement with no `;`: what it swallowed
            // is lost, the dump is read again from here.
            out.problems.add(Problem::BadSql, line);
            if self.mode == Mode::Values && self.depth > 0 {
                out.batch.end();
            }
            self.reset();
        }
        if self.mode == Mode::Statement && self.statement.trim_ascii().is_empty() && self.quote.is_none() {
            let trimmed = text.trim_start();
            if trimmed.starts_with("--") || trimmed.starts_with('#') {
                return;
            }
        }
        for byte in text.bytes().chain(std::iter::once(b'\n')) {
            match self.mode {
                Mode::Statement => self.statement_byte(byte, line, out),
                Mode::Values => self.values_byte(byte, line, out),
                Mode::Skip => self.skip_byte(byte, line),
                Mode::Trailer => self.trailer_byte(byte, line, out),
                Mode::Copy => {}
            }
        }
    }

    pub(crate) fn finish(&mut self, out: &mut Out<'_>) {
        if self.mode == Mode::Values && self.depth > 0 {
            out.batch.end();
        }
        if self.quote.is_some() {
            out.problems.add(Problem::BadSql, self.quote_line);
        }
    }

    fn reset(&mut self) {
        self.mode = Mode::Statement;
        self.statement.clear();
        self.quote = None;
        self.escape = false;
        self.just_closed = false;
        self.columns.clear();
        self.depth = 0;
    }

    /// Follows quotes outside values: `true` when `byte` was inside (or closed) a quoted name or
    /// string, which the caller then passes over.
    fn in_quote(&mut self, byte: u8) -> bool {
        let Some(quote) = self.quote else {
            return false;
        };
        if self.escape {
            self.escape = false;
        } else if byte == b'\\' && self.mysql {
            self.escape = true;
        } else if byte == quote {
            self.quote = None;
        }
        true
    }

    fn statement_byte(&mut self, byte: u8, line: u64, out: &mut Out<'_>) {
        if self.in_quote(byte) {
            self.push_statement(byte);
            return;
        }
        match byte {
            b'\'' | b'"' | b'`' => {
                self.quote = Some(byte);
                self.quote_line = line;
                self.push_statement(byte);
            }
            b';' => {
                let statement = String::from_utf8_lossy(&std::mem::take(&mut self.statement)).into_owned();
                self.end_statement(&statement, line, out);
            }
            b'(' if self.is_insert_head() => {
                let statement = String::from_utf8_lossy(&std::mem::take(&mut self.statement)).into_owned();
                match insert_head(&statement) {
                    Some((table, names)) => {
                        self.start_values(&table, names, out);
                        self.open_tuple(line, out);
                    }
                    None => {
                        out.problems.add(Problem::BadSql, line);
                        self.mode = Mode::Skip;
                    }
                }
            }
            // Blank lines and spaces between statements are not kept: a file of them would make
            // every later check of the statement read them all again.
            _ if self.statement.is_empty() && byte.is_ascii_whitespace() => {}
            _ => self.push_statement(byte),
        }
    }

    fn push_statement(&mut self, byte: u8) {
        if self.statement.len() < STATEMENT_BYTES_MAX {
            self.statement.push(byte);
        }
    }

    /// Whether the statement so far is `INSERT … VALUES` (the next `(` opens the first row).
    fn is_insert_head(&self) -> bool {
        let text = self.statement.trim_ascii();
        let head = text.get(..text.len().min(7)).unwrap_or_default();
        let values_at = text.len().saturating_sub(6);
        // `VALUES` as a word: `INSERT INTO field_values (…)` is not its end.
        let word = values_at > 0
            && text
                .get(values_at - 1)
                .is_some_and(|before| before.is_ascii_whitespace() || b")\"`'".contains(before));
        (head.eq_ignore_ascii_case(b"INSERT ") || head.eq_ignore_ascii_case(b"REPLACE"))
            && word
            && text
                .get(values_at..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case(b"VALUES"))
    }

    fn end_statement(&mut self, statement: &str, line: u64, out: &mut Out<'_>) {
        let trimmed = statement.trim();
        let upper = trimmed
            .get(..trimmed.len().min(40))
            .unwrap_or("")
            .to_ascii_uppercase();
        if upper.starts_with("CREATE TABLE") {
            match create_table(trimmed) {
                Some((table, names)) => {
                    self.tables.insert(table, names);
                }
                None => out.problems.add(Problem::BadSql, line),
            }
        } else if upper.starts_with("COPY ") && trimmed.to_ascii_uppercase().contains(" FROM") {
            match copy_head(trimmed) {
                Some((table, names)) => {
                    self.start_values(&table, names, out);
                    self.mode = Mode::Copy;
                }
                None => out.problems.add(Problem::BadSql, line),
            }
        }
    }

    fn start_values(&mut self, table: &str, names: Option<Vec<String>>, out: &mut Out<'_>) {
        let names = names
            .or_else(|| self.tables.get(table).cloned())
            .unwrap_or_default();
        self.columns = names.iter().map(|name| out.columns.id(name)).collect();
        self.table = table.to_owned();
        self.mode = Mode::Values;
        self.depth = 0;
    }

    fn column(&mut self, out: &mut Out<'_>) -> u32 {
        while self.columns.len() <= self.field && self.columns.len() < COLUMNS_MAX {
            let name = format!("{}.column {}", self.table, self.columns.len() + 1);
            self.columns.push(out.columns.id(&name));
        }
        self.columns
            .get(self.field)
            .or(self.columns.last())
            .copied()
            .unwrap_or(0)
    }

    fn open_tuple(&mut self, line: u64, out: &mut Out<'_>) {
        out.batch.begin(line);
        self.depth = 1;
        self.field = 0;
        self.value.clear();
        self.quoted = false;
        self.backslashes = self.mysql;
    }

    fn end_value(&mut self, out: &mut Out<'_>) {
        let is_null = !self.quoted && self.value.eq_ignore_ascii_case(b"NULL");
        if !is_null {
            let column = self.column(out);
            let text = String::from_utf8_lossy(&self.value).into_owned();
            out.field(column, &text);
        }
        self.field += 1;
        self.value.clear();
        self.quoted = false;
        self.backslashes = self.mysql;
    }

    fn push_value(&mut self, byte: u8) {
        if self.value.len() < VALUE_BYTES_MAX {
            self.value.push(byte);
        }
    }

    fn values_byte(&mut self, byte: u8, line: u64, out: &mut Out<'_>) {
        if let Some(quote) = self.quote {
            if self.escape {
                self.escape = false;
                let unescaped = match byte {
                    b'n' => b'\n',
                    b't' => b'\t',
                    b'r' => b'\r',
                    b'0' => b' ',
                    b'Z' => b' ',
                    other => other,
                };
                self.push_value(unescaped);
            } else if byte == b'\\' && self.backslashes {
                self.escape = true;
            } else if byte == quote {
                // A doubled quote is the quote itself: decided by the next byte.
                self.quote = None;
                self.escape = false;
                self.quoted = true;
                self.just_closed = true;
            } else {
                self.push_value(byte);
            }
            return;
        }
        let just_closed = std::mem::take(&mut self.just_closed);
        if self.depth == 0 {
            match byte {
                b'(' => self.open_tuple(line, out),
                b';' => {
                    self.mode = Mode::Statement;
                    self.columns.clear();
                }
                b',' | b' ' | b'\t' | b'\n' | b'\r' => {}
                // `ON DUPLICATE KEY UPDATE …`, `ON CONFLICT …`, `RETURNING …`, `AS new …`: clauses
                // after the rows, passed over; any other word is counted.
                byte if byte.is_ascii_alphabetic() => {
                    self.statement.push(byte);
                    self.mode = Mode::Trailer;
                }
                _ => {
                    out.problems.add(Problem::BadSql, line);
                    self.mode = Mode::Skip;
                }
            }
            return;
        }
        match byte {
            b'\'' => {
                if just_closed {
                    // `'it''s'`: the quote that just closed was the first of a pair.
                    self.push_value(b'\'');
                } else if self.value.eq_ignore_ascii_case(b"E") {
                    self.value.clear();
                    self.backslashes = true;
                } else if !self.quoted {
                    // `_binary 'x'`, `X'…'`: the prefix is not part of the value.
                    self.value.clear();
                }
                self.quote = Some(b'\'');
                self.quote_line = line;
            }
            b'"' if self.value.is_empty() && !self.quoted => {
                self.quote = Some(b'"');
                self.quote_line = line;
            }
            b',' if self.depth == 1 => self.end_value(out),
            b'(' => {
                self.depth += 1;
                self.push_value(byte);
            }
            b')' if self.depth == 1 => {
                self.end_value(out);
                out.batch.end();
                self.depth = 0;
            }
            b')' => {
                self.depth -= 1;
                self.push_value(byte);
            }
            b' ' | b'\t' | b'\n' | b'\r' if !self.quoted => {}
            _ if self.quoted => {}
            _ => self.push_value(byte),
        }
    }

    fn trailer_byte(&mut self, byte: u8, line: u64, out: &mut Out<'_>) {
        if byte.is_ascii_alphabetic() && self.statement.len() < 16 {
            self.statement.push(byte);
            return;
        }
        let word = std::mem::take(&mut self.statement);
        let known = [&b"ON"[..], b"RETURNING", b"AS"]
            .iter()
            .any(|known| word.eq_ignore_ascii_case(known));
        if !known {
            out.problems.add(Problem::BadSql, line);
        }
        self.mode = Mode::Skip;
        self.skip_byte(byte, line);
    }

    fn skip_byte(&mut self, byte: u8, line: u64) {
        if self.in_quote(byte) {
            return;
        }
        match byte {
            b'\'' | b'"' | b'`' => {
                self.quote = Some(byte);
                self.quote_line = line;
            }
            b';' => {
                self.mode = Mode::Statement;
                self.statement.clear();
            }
            _ => {}
        }
    }

    fn copy_line(&mut self, line: u64, text: &str, out: &mut Out<'_>) {
        if text == "\\." {
            self.mode = Mode::Statement;
            self.columns.clear();
            return;
        }
        out.batch.begin(line);
        for (index, raw) in text.split('\t').enumerate() {
            self.field = index;
            if raw == "\\N" {
                continue;
            }
            let column = self.column(out);
            out.field(column, &copy_unescape(raw));
        }
        out.batch.end();
    }
}

fn copy_unescape(raw: &str) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// A name without its quotes and schema (`"public"."users"` → `users`), lower-cased.
fn bare_name(text: &str) -> String {
    let last = text.rsplit('.').next().unwrap_or(text);
    let name = last
        .trim()
        .trim_matches(|c| c == '`' || c == '"' || c == '[' || c == ']')
        .to_lowercase();
    name.chars().take(NAME_CHARS_MAX).collect()
}

/// Column names in `( … )` at the top level, split at commas outside quotes and parentheses.
fn top_level_parts(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(open), c) if c == open => {
                quote = None;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"' | '`') => {
                quote = Some(c);
                current.push(c);
            }
            (None, '(') => {
                depth += 1;
                current.push(c);
            }
            (None, ')') => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            (None, ',') if depth == 0 => parts.push(std::mem::take(&mut current)),
            (None, c) => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

/// The text between the first `(` and its matching `)`, and what came before it.
fn parenthesised(text: &str) -> Option<(&str, &str)> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    (close > open).then(|| {
        (
            text.get(..open).unwrap_or(""),
            text.get(open + 1..close).unwrap_or(""),
        )
    })
}

/// `CREATE TABLE [IF NOT EXISTS] name ( definitions )`: the table and its column names.
fn create_table(statement: &str) -> Option<(String, Vec<String>)> {
    let (head, body) = parenthesised(statement)?;
    let name = head.split_whitespace().last()?;
    let constraints = [
        "PRIMARY",
        "KEY",
        "UNIQUE",
        "CONSTRAINT",
        "INDEX",
        "FOREIGN",
        "CHECK",
        "FULLTEXT",
        "SPATIAL",
        "EXCLUDE",
    ];
    let columns = top_level_parts(body)
        .iter()
        .filter_map(|part| {
            let first = part.split_whitespace().next()?;
            (!constraints.iter().any(|word| first.eq_ignore_ascii_case(word))).then(|| bare_name(first))
        })
        .collect::<Vec<_>>();
    (!columns.is_empty()).then(|| (bare_name(name), columns))
}

/// `INSERT [IGNORE] INTO name [(columns)] VALUES`: the table and the columns it names.
fn insert_head(statement: &str) -> Option<(String, Option<Vec<String>>)> {
    let upper = statement.to_ascii_uppercase();
    let into = upper.find("INTO")?;
    let values = upper.rfind("VALUES")?;
    let middle = statement.get(into + 4..values)?.trim();
    match middle.find('(') {
        Some(open) => {
            let name = middle.get(..open)?.trim();
            let (_, list) = parenthesised(middle)?;
            let names = top_level_parts(list).iter().map(|part| bare_name(part)).collect();
            Some((bare_name(name), Some(names)))
        }
        None => Some((bare_name(middle), None)),
    }
}

/// `COPY name (columns) FROM stdin`: the table and its columns.
fn copy_head(statement: &str) -> Option<(String, Option<Vec<String>>)> {
    let rest = statement.get(4..)?.trim();
    let upper = rest.to_ascii_uppercase();
    let from = upper.rfind(" FROM")?;
    let head = rest.get(..from)?.trim();
    match head.find('(') {
        Some(open) => {
            let name = head.get(..open)?.trim();
            let (_, list) = parenthesised(head)?;
            let names = top_level_parts(list).iter().map(|part| bare_name(part)).collect();
            Some((bare_name(name), Some(names)))
        }
        None => Some((bare_name(head), None)),
    }
}

/// Whether a line begins a statement that a dump writes at the start of a line.
/// Whether a line begins a statement as dumps write them (in capitals, at the start of a line):
/// an INSERT with its VALUES, a `COPY … FROM stdin;` or a `CREATE TABLE`. Strict, because a
/// string in a dump may hold a line that begins "Insert into" or "Copy of".
fn starts_statement(text: &str) -> bool {
    let insert = ["INSERT INTO ", "INSERT IGNORE INTO ", "REPLACE INTO "]
        .iter()
        .any(|start| text.as_bytes().starts_with(start.as_bytes()))
        && text.contains(" VALUES");
    let copy = text.starts_with("COPY ") && text.trim_end().ends_with("FROM stdin;");
    insert || copy || text.starts_with("CREATE TABLE ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads() {
        let (table, columns) = create_table(
            "CREATE TABLE IF NOT EXISTS `users` (\n `id` int NOT NULL,\n `email` varchar(255) DEFAULT NULL,\n \
             `price` decimal(10,2),\n PRIMARY KEY (`id`),\n KEY `e` (`email`)\n) ENGINE=InnoDB",
        )
        .unwrap();
        assert_eq!(table, "users");
        assert_eq!(columns, ["id", "email", "price"]);
        let (table, columns) =
            insert_head("INSERT INTO \"public\".\"members\" (\"id\", \"e mail\") VALUES").unwrap();
        assert_eq!(table, "members");
        assert_eq!(columns.unwrap(), ["id", "e mail"]);
        assert_eq!(
            insert_head("INSERT IGNORE INTO `t` VALUES").unwrap(),
            ("t".to_owned(), None)
        );
        let (table, columns) = copy_head("COPY public.people (id, email) FROM stdin").unwrap();
        assert_eq!(
            (table.as_str(), columns.unwrap()),
            ("people", vec!["id".to_owned(), "email".to_owned()])
        );
    }
}
