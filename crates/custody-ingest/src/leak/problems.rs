//! What could not be read in a leaked file: counted by kind, with the first few line numbers, so
//! a user can look at them; reading always carries on with the rest.

use std::collections::BTreeMap;

use serde::Serialize;

/// Line numbers kept per kind of problem.
const LINES_KEPT: usize = 5;

/// A kind of line or record that could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Longer than the line limit; read past without being held.
    TooLong,
    /// Binary (NUL bytes or mostly control characters).
    Binary,
    /// A quoted field that is never closed; the line was read with the quote as a character.
    BrokenQuoting,
    /// A line of a JSON-lines file that is not JSON.
    BadJson,
    /// A statement or value of an SQL dump that could not be read.
    BadSql,
    /// A line of a combo list without an identifier.
    NoSeparator,
    /// A record with more fields or text than custody keeps of one record.
    WideRecord,
}

impl Problem {
    /// What it means, for people.
    pub fn describe(self) -> &'static str {
        match self {
            Problem::TooLong => "lines longer than the limit (skipped)",
            Problem::Binary => "binary lines (skipped)",
            Problem::BrokenQuoting => "rows with a quote that is never closed (read with the quote as text)",
            Problem::BadJson => "lines that are not JSON (skipped)",
            Problem::BadSql => "SQL that could not be read (skipped to the next statement)",
            Problem::NoSeparator => "combo lines with neither an address nor a separator (skipped)",
            Problem::WideRecord => {
                "records with over 4,096 fields or 4 MiB of text (the rest of each was read past)"
            }
        }
    }
}

/// Counts and first lines of one kind of problem.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ProblemCount {
    /// How many.
    pub count: u64,
    /// The first few line numbers.
    pub lines: Vec<u64>,
}

/// Everything that could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Problems {
    /// Per kind.
    pub counts: BTreeMap<Problem, ProblemCount>,
    /// Why reading stopped before the end of the file, if it did (a truncated or broken
    /// compressed stream), and at which line.
    pub stopped: Option<(u64, String)>,
}

impl Problems {
    /// Counts one problem at `line`.
    pub fn add(&mut self, problem: Problem, line: u64) {
        let entry = self.counts.entry(problem).or_default();
        entry.count += 1;
        if entry.lines.len() < LINES_KEPT {
            entry.lines.push(line);
        }
    }

    /// Records that reading stopped at `line`.
    pub fn stopped(&mut self, line: u64, why: String) {
        self.stopped.get_or_insert((line, why));
    }

    /// Whether anything could not be read.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.stopped.is_none()
    }

    /// How many of one kind.
    pub fn count(&self, problem: Problem) -> u64 {
        self.counts.get(&problem).map_or(0, |entry| entry.count)
    }
}
