//! JSON lines: one JSON value a line, with nested objects and arrays. Each scalar becomes a field
//! named by its path (`user.contacts[].email`), so the last part of the path names its role.

use serde_json::Value;

use super::batch::Out;
use super::problems::Problem;

/// Nesting followed into a value; deeper parts are not read.
const DEPTH_MAX: usize = 32;

pub(crate) fn line(line: u64, text: &str, out: &mut Out<'_>) {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return;
    }
    // A JSON array of records written over lines: its brackets and commas are not records.
    let trimmed = trimmed.trim_end_matches(',');
    if trimmed == "[" || trimmed == "]" {
        return;
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(value) => {
            out.batch.begin(line);
            let mut path = String::new();
            walk(&value, &mut path, 0, out);
            out.batch.end();
        }
        Err(_) => out.problems.add(Problem::BadJson, line),
    }
}

fn walk(value: &Value, path: &mut String, depth: usize, out: &mut Out<'_>) {
    if depth > DEPTH_MAX {
        return;
    }
    match value {
        Value::Null => {}
        Value::Bool(flag) => scalar(path, if *flag { "true" } else { "false" }, out),
        Value::Number(number) => scalar(path, &number.to_string(), out),
        Value::String(text) => scalar(path, text, out),
        Value::Array(items) => {
            let length = path.len();
            path.push_str("[]");
            for item in items {
                walk(item, path, depth + 1, out);
            }
            path.truncate(length);
        }
        Value::Object(map) => {
            for (key, item) in map {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                walk(item, path, depth + 1, out);
                path.truncate(length);
            }
        }
    }
}

fn scalar(path: &str, value: &str, out: &mut Out<'_>) {
    let column = out.columns.id(if path.is_empty() { "value" } else { path });
    out.field(column, value);
}
