//! Telling a leaked file's format from its first lines: JSON lines, an SQL dump, a combo list,
//! or delimited text (which delimiter, and whether the first row names the columns).

use serde::Serialize;

use super::roles::{Role, by_name, looks_like_phone, looks_like_uk_postcode};
use super::values::leak_day;

/// A format as the user can force it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeakFormat {
    /// Detected from the first lines.
    Auto,
    /// Delimited text; the delimiter is detected.
    Csv,
    /// Tab-separated.
    Tsv,
    /// JSON lines.
    Jsonl,
    /// An SQL dump.
    Sql,
    /// A combo list.
    Combo,
}

impl LeakFormat {
    /// Parses `auto`, `csv`, `tsv`, `jsonl`, `sql` or `combo`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(LeakFormat::Auto),
            "csv" => Some(LeakFormat::Csv),
            "tsv" => Some(LeakFormat::Tsv),
            "jsonl" | "ndjson" | "json" => Some(LeakFormat::Jsonl),
            "sql" => Some(LeakFormat::Sql),
            "combo" => Some(LeakFormat::Combo),
            _ => None,
        }
    }
}

/// The format a file was read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "format", rename_all = "snake_case")]
pub enum DetectedFormat {
    /// Delimited text.
    Delimited {
        /// The delimiter.
        delimiter: char,
        /// Whether the first row names the columns.
        header: bool,
    },
    /// JSON lines.
    Jsonl,
    /// An SQL dump.
    Sql {
        /// Written by MySQL (backslash escapes).
        mysql: bool,
    },
    /// A combo list.
    Combo,
}

impl DetectedFormat {
    /// For people.
    pub fn describe(&self) -> String {
        match self {
            DetectedFormat::Delimited { delimiter, header } => {
                let name = match delimiter {
                    ',' => "comma",
                    ';' => "semicolon",
                    '\t' => "tab",
                    '|' => "pipe",
                    _ => "other",
                };
                format!(
                    "{name}-delimited text, {}",
                    if *header {
                        "with a header row"
                    } else {
                        "without a header row"
                    }
                )
            }
            DetectedFormat::Jsonl => "JSON lines".into(),
            DetectedFormat::Sql { mysql: true } => "SQL dump (MySQL)".into(),
            DetectedFormat::Sql { mysql: false } => "SQL dump (PostgreSQL or standard)".into(),
            DetectedFormat::Combo => "combo list".into(),
        }
    }
}

const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// The format of a file whose first lines are `lines`, `forced` unless it is `Auto`.
pub(crate) fn detect(lines: &[(u64, String)], forced: LeakFormat) -> DetectedFormat {
    let texts: Vec<&str> = lines
        .iter()
        .map(|(_, text)| text.trim())
        .filter(|text| !text.is_empty())
        .collect();
    // A dump's own header decides its dialect; otherwise MySQL's marks do.
    let postgres = texts.iter().any(|text| text.contains("PostgreSQL database dump"));
    let mysql = !postgres
        && texts.iter().any(|text| {
            text.contains('`')
                || text.contains("ENGINE=")
                || text.contains("MySQL dump")
                || text.contains("MariaDB dump")
        });
    let delimited = |delimiter: Option<u8>| {
        let delimiter = delimiter.unwrap_or_else(|| best_delimiter(&texts));
        DetectedFormat::Delimited {
            delimiter: char::from(delimiter),
            header: texts.first().is_some_and(|first| is_header(first, delimiter)),
        }
    };
    match forced {
        LeakFormat::Csv => return delimited(None),
        LeakFormat::Tsv => return delimited(Some(b'\t')),
        LeakFormat::Jsonl => return DetectedFormat::Jsonl,
        LeakFormat::Sql => return DetectedFormat::Sql { mysql },
        LeakFormat::Combo => return DetectedFormat::Combo,
        LeakFormat::Auto => {}
    }
    if texts.is_empty() {
        return delimited(Some(b','));
    }
    let json = texts.iter().filter(|text| text.starts_with(['{', '['])).count();
    if json * 10 >= texts.len() * 6 {
        return DetectedFormat::Jsonl;
    }
    let sql = texts.iter().any(|text| {
        let upper = text
            .get(..text.len().min(24))
            .unwrap_or(text)
            .to_ascii_uppercase();
        [
            "INSERT INTO",
            "INSERT IGNORE",
            "CREATE TABLE",
            "COPY ",
            "-- MYSQL DUMP",
            "-- POSTGRESQL DATABASE DUMP",
        ]
        .iter()
        .any(|start| upper.starts_with(start))
    });
    if sql {
        return DetectedFormat::Sql { mysql };
    }
    let delimiter = best_delimiter(&texts);
    let first_is_header = texts.first().is_some_and(|first| is_header(first, delimiter));
    let combos = texts.iter().filter(|text| is_combo(text)).count();
    let columns = modal_count(&texts, delimiter);
    if !first_is_header
        && combos * 10 >= texts.len() * 8
        && (columns == 0 || (delimiter == b';' && columns == 1))
    {
        return DetectedFormat::Combo;
    }
    DetectedFormat::Delimited {
        delimiter: char::from(delimiter),
        header: first_is_header,
    }
}

/// `login:password` (or `;`, `|`), the login without spaces, or a URL before them.
fn is_combo(text: &str) -> bool {
    let rest = match text.find("://") {
        Some(position) => text.get(position + 3..).unwrap_or(""),
        None => text,
    };
    match rest.find([':', ';', '|']) {
        Some(position) => {
            let login = rest.get(..position).unwrap_or("");
            !login.is_empty() && !login.contains([' ', ',', '\t']) && position + 1 < rest.len()
        }
        None => false,
    }
}

/// The delimiter that splits most lines into the same number of fields.
fn best_delimiter(texts: &[&str]) -> u8 {
    let mut best = (0usize, b',');
    for delimiter in DELIMITERS {
        let modal = modal_count(texts, delimiter);
        if modal == 0 {
            continue;
        }
        let steady = texts
            .iter()
            .filter(|text| count_outside_quotes(text, delimiter) == modal)
            .count();
        if steady > best.0 {
            best = (steady, delimiter);
        }
    }
    best.1
}

fn modal_count(texts: &[&str], delimiter: u8) -> usize {
    let mut counts: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for text in texts.iter().take(200) {
        *counts.entry(count_outside_quotes(text, delimiter)).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(count, seen)| (*seen, *count))
        .map_or(0, |(count, _)| count)
}

fn count_outside_quotes(text: &str, delimiter: u8) -> usize {
    let mut quoted = false;
    let mut count = 0;
    for byte in text.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if byte == delimiter && !quoted {
            count += 1;
        }
    }
    count
}

/// Whether a first row names columns: no value in it looks like data (an address, a number, a
/// date), and a name is one custody knows or every field is a short name.
fn is_header(text: &str, delimiter: u8) -> bool {
    let mut fields = Vec::new();
    let mut scratch = String::new();
    super::delimited::split(text, delimiter, false, &mut scratch, &mut |value| {
        fields.push(value.trim().to_owned());
    });
    let data_like = fields.iter().any(|field| {
        field.contains('@')
            || (field.chars().any(|c| c.is_ascii_digit()) && !field.chars().any(char::is_alphabetic))
            || looks_like_uk_postcode(field)
            || looks_like_phone(field)
            || leak_day(field).is_some()
    });
    if data_like || fields.iter().all(String::is_empty) {
        return false;
    }
    let known = fields.iter().any(|field| {
        let (role, category) = by_name(field);
        role != Role::Other || category.is_some()
    });
    let name_like = fields.iter().all(|field| {
        field.len() <= 40
            && field.chars().any(char::is_alphabetic)
            && field
                .chars()
                .all(|c| c.is_alphanumeric() || " _-./#()".contains(c))
    });
    known || (name_like && fields.len() > 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(u64, String)> {
        text.lines()
            .enumerate()
            .map(|(index, line)| (index as u64 + 1, line.to_owned()))
            .collect()
    }

    #[test]
    fn formats() {
        let detect = |text: &str| detect(&lines(text), LeakFormat::Auto);
        assert_eq!(
            detect("email,name\na@x.org,Alex\n"),
            DetectedFormat::Delimited {
                delimiter: ',',
                header: true
            }
        );
        assert_eq!(
            detect("a@x.org;Alex Smith;0113 496 0000\nb@x.org;Bo Li;0113 496 0001\n"),
            DetectedFormat::Delimited {
                delimiter: ';',
                header: false
            }
        );
        assert_eq!(
            detect("a@x.org:hunter2\nb@y.org:pa:ss\nbob:secret\n"),
            DetectedFormat::Combo
        );
        assert_eq!(
            detect("{\"email\": \"a@x.org\"}\n{\"a\": 1}\n"),
            DetectedFormat::Jsonl
        );
        assert_eq!(
            detect("-- MySQL dump 10.13\nINSERT INTO `t` VALUES (1,'a');\n"),
            DetectedFormat::Sql { mysql: true }
        );
        assert_eq!(
            detect("id|mail|pass\n1|a@x.org|x\n"),
            DetectedFormat::Delimited {
                delimiter: '|',
                header: true
            }
        );
    }
}
