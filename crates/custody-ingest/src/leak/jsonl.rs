//! JSON lines: one JSON value a line, with nested objects and arrays. Each scalar becomes a field
//! named by its path (`user.contacts[].email`), so the last part of the path names its role.

use serde_json::Value;

use super::batch::{Out, is_key_like};
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
            walk(&value, &mut path, line, (0, true), out);
            out.batch.end();
        }
        Err(_) => out.problems.add(Problem::BadJson, line),
    }
}

/// `sole` says the value is the whole line or the only entry of its object (`{"users": […]}`):
/// an array of objects there is a collection, one record per object; elsewhere (a person's
/// `contacts`) it belongs to its record.
fn walk(value: &Value, path: &mut String, line: u64, (depth, sole): (usize, bool), out: &mut Out<'_>) {
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
            let rows = sole && items.len() > 1 && items.iter().all(Value::is_object);
            for item in items {
                if rows {
                    next_record(line, out);
                }
                walk(item, path, line, (depth + 1, false), out);
            }
            if rows {
                next_record(line, out);
            }
            path.truncate(length);
        }
        Value::Object(map) if map.len() == 1 && map.keys().all(|key| key.starts_with('$')) => {
            // MongoDB extended JSON: the value under its type, read at the field's own path.
            if let Some(text) = extended(map) {
                scalar(path, &text, out);
            }
        }
        Value::Object(map) => {
            // An object keyed by id or address (`{"u123": {…}, "u124": {…}}`) holds one record
            // per entry, as a one-line export of a whole collection does.
            let rows = map.len() > 1 && map.iter().all(|(key, item)| item.is_object() && is_key_like(key));
            for (key, item) in map {
                let length = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                if rows {
                    next_record(line, out);
                }
                walk(item, path, line, (depth + 1, map.len() == 1), out);
                path.truncate(length);
            }
            if rows {
                next_record(line, out);
            }
        }
    }
}

/// The value of a one-key extended JSON object (`{"$date": …}`, `{"$numberLong": "…"}`,
/// `{"$oid": "…"}`), as MongoDB's `mongoexport` writes it in relaxed and canonical mode; a date
/// given as milliseconds since 1970 (canonical, and any date before 1970) becomes ISO 8601.
fn extended(map: &serde_json::Map<String, Value>) -> Option<String> {
    let (key, value) = map.iter().next()?;
    let number = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Object(inner) => extended(inner),
        _ => None,
    };
    match key.as_str() {
        "$date" => {
            let text = number(value)?;
            match text.parse::<i64>() {
                Ok(millis) => jiff::Timestamp::from_millisecond(millis)
                    .ok()
                    .map(|at| at.to_string()),
                Err(_) => Some(text),
            }
        }
        "$numberLong" | "$numberInt" | "$numberDouble" | "$numberDecimal" | "$oid" | "$uuid" | "$symbol" => {
            number(value)
        }
        _ => None,
    }
}

fn scalar(path: &str, value: &str, out: &mut Out<'_>) {
    let column = out.columns.path_id(if path.is_empty() { "value" } else { path });
    out.field(column, value);
}

/// Ends the open record and begins another on the same line.
fn next_record(line: u64, out: &mut Out<'_>) {
    out.batch.end();
    out.batch.begin(line);
}
