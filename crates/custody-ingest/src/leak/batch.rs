//! Records of a leaked file handed out in batches: one text buffer with field spans, so a batch
//! of thousands of rows costs a few allocations and can be reused.

use std::collections::HashMap;

use custody_core::CategoryKey;

use super::problems::{Problem, Problems};
use super::roles::{Role, by_name, role_category};

/// One field of a record.
#[derive(Debug, Clone, Copy)]
struct Field {
    column: u32,
    role: Role,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, Copy)]
struct Span {
    line: u64,
    start: usize,
    end: usize,
}

/// Records read from a leaked file.
#[derive(Debug, Default)]
pub struct Batch {
    text: String,
    fields: Vec<Field>,
    records: Vec<Span>,
    open: Option<(u64, usize)>,
    /// The open record reached its limits (reported once).
    capped: bool,
}

/// One record of a batch.
#[derive(Debug, Clone, Copy)]
pub struct Record<'batch> {
    /// The line the record starts on.
    pub line: u64,
    text: &'batch str,
    fields: &'batch [Field],
}

impl<'batch> Record<'batch> {
    /// The record's fields: the column's role and the value.
    pub fn fields(&self) -> impl Iterator<Item = (Role, &'batch str)> + 'batch {
        let text = self.text;
        self.fields
            .iter()
            .map(move |field| (field.role, text.get(field.start..field.end).unwrap_or("")))
    }

    /// The record's fields with their column numbers (as in [`super::LeakReader::columns`]).
    pub fn columns(&self) -> impl Iterator<Item = (u32, &'batch str)> + 'batch {
        let text = self.text;
        self.fields
            .iter()
            .map(move |field| (field.column, text.get(field.start..field.end).unwrap_or("")))
    }
}

impl Batch {
    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the batch has no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Bytes of text held.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// The records.
    pub fn records(&self) -> impl Iterator<Item = Record<'_>> + '_ {
        self.records.iter().map(|span| Record {
            line: span.line,
            text: &self.text,
            fields: self.fields.get(span.start..span.end).unwrap_or_default(),
        })
    }

    /// The record at `index` (in the order of [`Self::records`]).
    pub fn record(&self, index: usize) -> Option<Record<'_>> {
        let span = self.records.get(index)?;
        Some(Record {
            line: span.line,
            text: &self.text,
            fields: self.fields.get(span.start..span.end).unwrap_or_default(),
        })
    }

    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.fields.clear();
        self.records.clear();
        self.open = None;
    }

    /// Whether a record has begun and not ended.
    pub(crate) fn is_open(&self) -> bool {
        self.open.is_some()
    }

    pub(crate) fn begin(&mut self, line: u64) {
        self.open = Some((line, self.fields.len()));
        self.capped = false;
    }

    /// Adds a field to the open record; `false` when the record is full (a record keeps
    /// `FIELDS_MAX` fields and `RECORD_BYTES_MAX` bytes of text at most).
    pub(crate) fn push(&mut self, column: u32, role: Role, value: &str) -> bool {
        // Nearly every value starts and ends with a visible ASCII character: nothing to trim, so
        // no character is decoded from either end.
        let visible = |byte: Option<&u8>| byte.is_some_and(u8::is_ascii_graphic);
        let bytes = value.as_bytes();
        let value = if visible(bytes.first()) && visible(bytes.last()) {
            value
        } else {
            value.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        };
        let Some((_, first)) = self.open else {
            return true;
        };
        if value.is_empty() {
            return true;
        }
        let text_start = self
            .fields
            .get(first)
            .map_or(self.text.len(), |field| field.start);
        if self.fields.len() - first >= FIELDS_MAX
            || self.text.len() - text_start + value.len() > RECORD_BYTES_MAX
        {
            return false;
        }
        let start = self.text.len();
        self.text.push_str(value);
        self.fields.push(Field {
            column,
            role,
            start,
            end: self.text.len(),
        });
        true
    }

    /// Ends the open record; a record without fields is dropped.
    pub(crate) fn end(&mut self) {
        if let Some((line, start)) = self.open.take()
            && self.fields.len() > start
        {
            self.records.push(Span {
                line,
                start,
                end: self.fields.len(),
            });
        }
    }

    /// Gives fields of `column` the role `role` (after the roles were decided by shape).
    pub(crate) fn set_role(&mut self, column: u32, role: Role) {
        for field in &mut self.fields {
            if field.column == column {
                field.role = role;
            }
        }
    }

    /// The first values of each column, for deciding roles by shape.
    pub(crate) fn samples(&self, per_column: usize) -> HashMap<u32, Vec<String>> {
        let mut samples: HashMap<u32, Vec<String>> = HashMap::new();
        for field in &self.fields {
            let values = samples.entry(field.column).or_default();
            if values.len() < per_column {
                values.push(self.text.get(field.start..field.end).unwrap_or("").to_owned());
            }
        }
        samples
    }
}

/// A column of a leaked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name (from the header, the JSON path, the SQL schema), or `column N`.
    pub name: String,
    /// The identifier it holds.
    pub role: Role,
    /// Its data category, when custody can tell.
    pub category: Option<CategoryKey>,
    /// Whether the role was decided from the values' shape rather than the name.
    pub by_shape: bool,
    /// Whether the role was proved against the ledger (its values, with another column's,
    /// made the keyed identifiers of people custody holds).
    pub by_ledger: bool,
}

/// Distinct columns kept; any further ones share one column, named `(more columns)`.
const COLUMNS_MAX: usize = 4096;
/// Characters of a column name kept.
const NAME_CHARS_MAX: usize = 160;
/// Fields of one record kept.
const FIELDS_MAX: usize = 4096;
/// Bytes of text of one record kept.
const RECORD_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Longest name remembered as another spelling of a column.
const ALIAS_BYTES_MAX: usize = 256;

/// The columns met so far, by number.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    pub(crate) list: Vec<Column>,
    index: HashMap<String, u32>,
    positional: Vec<u32>,
}

impl Columns {
    /// The number of the column at JSON path `name`, adding it when new. Parts of the path that
    /// are keys rather than names (an id, an address: `users.u123.email`) become `*`, so a dump
    /// keyed by user does not make a column per user.
    pub(crate) fn path_id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let general = general_name(name);
        let id = self.id(&general);
        if self.index.len() < COLUMNS_MAX * 4 && name.len() <= ALIAS_BYTES_MAX {
            self.index.insert(name.to_owned(), id);
        }
        id
    }

    /// The number of the column called `name` (a header, an SQL column), adding it when new;
    /// a name longer than readable keeps its end, which says what it is.
    pub(crate) fn id(&mut self, name: &str) -> u32 {
        if let Some(id) = self.index.get(name) {
            return *id;
        }
        let count = name.chars().count();
        let general: String = name.chars().skip(count.saturating_sub(NAME_CHARS_MAX)).collect();
        if let Some(id) = self.index.get(&general) {
            return *id;
        }
        let general = if self.list.len() >= COLUMNS_MAX {
            "(more columns)".to_owned()
        } else {
            general
        };
        if let Some(id) = self.index.get(&general) {
            return *id;
        }
        let id = u32::try_from(self.list.len()).unwrap_or(u32::MAX);
        let (role, category) = by_name(&general);
        self.list.push(Column {
            name: general.clone(),
            role,
            category,
            by_shape: false,
            by_ledger: false,
        });
        self.index.insert(general, id);
        id
    }

    /// The number of the `index`th (0-based) column of a file without names.
    pub(crate) fn positional(&mut self, index: usize) -> u32 {
        if let Some(id) = self.positional.get(index) {
            return *id;
        }
        while self.positional.len() <= index && self.positional.len() < COLUMNS_MAX {
            let name = format!("column {}", self.positional.len() + 1);
            let id = self.id(&name);
            self.positional.push(id);
        }
        self.positional
            .get(index)
            .or(self.positional.last())
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn role(&self, id: u32) -> Role {
        self.list
            .get(id as usize)
            .map_or(Role::Other, |column| column.role)
    }

    /// Whether the name of a column says nothing about it.
    pub(crate) fn unplaced(&self, id: u32) -> bool {
        self.list
            .get(id as usize)
            .is_some_and(|column| column.role == Role::Other && column.category.is_none())
    }

    pub(crate) fn set_shape_role(&mut self, id: u32, role: Role) {
        if let Some(column) = self.list.get_mut(id as usize) {
            column.role = role;
            column.category = role_category(role);
            column.by_shape = true;
        }
    }
}

/// Where a parser puts what it reads.
pub(crate) struct Out<'a> {
    pub(crate) batch: &'a mut Batch,
    pub(crate) columns: &'a mut Columns,
    pub(crate) problems: &'a mut Problems,
}

impl Out<'_> {
    /// Adds a field of column `column` to the open record.
    pub(crate) fn field(&mut self, column: u32, value: &str) {
        let role = self.columns.role(column);
        if !self.batch.push(column, role, value) && !self.batch.capped {
            self.batch.capped = true;
            if let Some((line, _)) = self.batch.open {
                self.problems.add(Problem::WideRecord, line);
            }
        }
    }
}

/// A column name with the parts of a path that are keys made `*`.
fn general_name(name: &str) -> String {
    if !name.contains('.') {
        return name.to_owned();
    }
    let general: Vec<&str> = name
        .split('.')
        .map(|part| {
            if is_key_like(part.trim_end_matches("[]")) {
                "*"
            } else {
                part
            }
        })
        .collect();
    general.join(".")
}

/// Whether a JSON object key is a key (an id, an address) rather than a field name.
pub(crate) fn is_key_like(key: &str) -> bool {
    let digits = key.chars().filter(char::is_ascii_digit).count();
    key.len() > 40
        || key.contains('@')
        || (digits >= 3 && !key.starts_with("column "))
        || (digits > 0 && digits == key.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_kept_trimmed_of_whitespace_and_byte_order_marks_at_both_ends() {
        let mut rng = fastrand::Rng::with_seed(3);
        let pieces = [
            "a", "Z", "7", "@", ".", "é", "ß", " ", "\t", "\u{a0}", "\u{3000}", "\u{feff}", "\u{200b}", "\r",
            "-",
        ];
        let mut values: Vec<String> = [
            "ann@example.org",
            " padded ",
            "\u{feff}ann",
            "ann\u{a0}",
            "\t",
            "",
            "é",
            "Ann Lee",
            "\u{200b}x\u{200b}",
        ]
        .map(str::to_owned)
        .to_vec();
        values.extend((0..2_000).map(|_| {
            (0..rng.usize(0..6))
                .map(|_| *rng.choice(&pieces).unwrap())
                .collect::<String>()
        }));
        let mut batch = Batch::default();
        for (line, value) in (1..).zip(&values) {
            batch.begin(line);
            assert!(batch.push(0, Role::Other, value));
            batch.end();
        }
        let mut kept = batch.records();
        for value in &values {
            let trimmed = value.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
            if trimmed.is_empty() {
                continue;
            }
            let record = kept.next().unwrap();
            let fields: Vec<&str> = record.fields().map(|(_, text)| text).collect();
            assert_eq!(fields, [trimmed], "{value:?}");
        }
        assert!(kept.next().is_none());
    }
}
