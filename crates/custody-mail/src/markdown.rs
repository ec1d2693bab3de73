//! Markdown outputs (the regulator report, the access answer, the public statement) escape the
//! free text they carry, as the HTML outputs do. A report is pasted into a regulator's web form
//! or a CMS: a supplier's statement or a timeline entry holding `<script>`, a link, an image or
//! a table row must arrive as the words that were typed, not as markup.
//!
//! Templates whose name ends in `.md` are rendered with the custom auto-escape `markdown`:
//! every value printed is escaped by [`escape`] unless a template marks it `safe`; numbers print
//! as they are. `code` prints a value as a code span.

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, Output, State};

const MARKDOWN: &str = "markdown";

/// Characters that start markup wherever they stand (CommonMark's emphasis, links, images,
/// code, HTML, headings, tables, strikethrough, and the backslash itself).
const ACTIVE_ANYWHERE: &[char] = &['\\', '`', '*', '_', '[', ']', '#', '|', '!', '~', '{', '}'];

/// `text` as literal Markdown: HTML's `<`, `>` and `&` as entities, characters that start
/// markup anywhere backslash-escaped, and each line's start made inert (a list marker, a
/// numbered item, a setext underline or an indented code block cannot be begun from inside a
/// value). Line breaks stay, as hard breaks.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    // CommonMark ends a line at LF, CR LF or a lone CR: all three split here.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    for (index, line) in text.split('\n').enumerate() {
        if index > 0 {
            out.push_str("\\\n");
        }
        // A continuation line's indentation would make a code block: dropped.
        let line = if index > 0 { line.trim_start() } else { line };
        escape_line(line, &mut out);
    }
    out
}

fn escape_line(line: &str, out: &mut String) {
    let leading_digits = line.chars().take_while(char::is_ascii_digit).count();
    let characters: Vec<char> = line.chars().collect();
    for (position, &character) in characters.iter().enumerate() {
        let rest = characters.get(position + 1..).unwrap_or_default();
        match character {
            // GitHub's autolinks: `scheme://…` and `www.…` become links without any markup.
            ':' if rest.starts_with(&['/', '/']) => out.push_str("\\:"),
            '.' if starts_www(&characters, position) => out.push_str("\\."),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            character if ACTIVE_ANYWHERE.contains(&character) => {
                out.push('\\');
                out.push(character);
            }
            // At a line's start: bullets, setext underlines, and `1.` or `1)` items.
            '-' | '+' | '=' if position == 0 => {
                out.push('\\');
                out.push(character);
            }
            '.' | ')' if position > 0 && position == leading_digits => {
                out.push('\\');
                out.push(character);
            }
            character => out.push(character),
        }
    }
}

/// Whether the `.` at `position` ends a word `www` (GitHub links `www.…` by itself).
fn starts_www(characters: &[char], position: usize) -> bool {
    let Some(start) = position.checked_sub(3) else {
        return false;
    };
    let word = characters.get(start..position).unwrap_or_default();
    let alone = start == 0
        || !characters
            .get(start - 1)
            .is_some_and(|letter| letter.is_alphanumeric());
    alone && word.len() == 3 && word.iter().all(|letter| letter.eq_ignore_ascii_case(&'w'))
}

/// Makes `environment` escape `.md` templates with [`escape`] (HTML templates keep HTML
/// escaping; other templates none), and adds the `code` filter.
pub fn configure(environment: &mut Environment<'_>) {
    environment.set_auto_escape_callback(|name| {
        if name.ends_with(".md") {
            AutoEscape::Custom(MARKDOWN.into())
        } else if name.ends_with(".html") || name.ends_with(".htm") {
            AutoEscape::Html
        } else {
            AutoEscape::None
        }
    });
    environment.set_formatter(format_value);
    environment.add_filter("code", code_span);
}

fn format_value(out: &mut Output<'_>, state: &mut State<'_, '_>, value: &Value) -> Result<(), Error> {
    if !matches!(state.auto_escape(), AutoEscape::Custom(name) if name == MARKDOWN) {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = if value.is_safe() || value.is_number() || value.is_none() || value.is_undefined() {
        value.to_string()
    } else {
        escape(&value.to_string())
    };
    out.write_str(&text).map_err(Error::from)
}

/// A code span holding `value` (backticks and line breaks inside it are dropped, as a code span
/// cannot hold them safely).
fn code_span(value: &Value) -> Value {
    let text: String = value
        .to_string()
        .chars()
        .filter(|character| !matches!(character, '`' | '\n' | '\r'))
        .collect();
    Value::from_safe_string(format!("`{text}`"))
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn markup_in_free_text_arrives_as_words() {
        let cases = [
            ("plain words, 72 hours", "plain words, 72 hours"),
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;/script&gt;",
            ),
            (
                "[click](https://evil.example)",
                "\\[click\\](https\\://evil.example)",
            ),
            (
                "![x](https://evil.example/x.png)",
                "\\!\\[x\\](https\\://evil.example/x.png)",
            ),
            (
                "*bold* _it_ `code` ~~s~~",
                "\\*bold\\* \\_it\\_ \\`code\\` \\~\\~s\\~\\~",
            ),
            ("| a | b |", "\\| a \\| b \\|"),
            ("# heading", "\\# heading"),
            (
                "line\n- item\n2. item\n    code\n===",
                "line\\\n\\- item\\\n2\\. item\\\ncode\\\n\\===",
            ),
            ("2021-10-29 18:30", "2021-10-29 18:30"),
            ("R&D > 3", "R&amp;D &gt; 3"),
            ("a\r1. item\rHeading\r===", "a\\\n1\\. item\\\nHeading\\\n\\==="),
            (
                "see https://evil.example or www.evil.example",
                "see https\\://evil.example or www\\.evil.example",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(escape(input), expected, "{input:?}");
        }
    }
}
