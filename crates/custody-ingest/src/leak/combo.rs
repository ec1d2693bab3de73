//! Combo lists: `email:password`, `email;password`, `user:pass`, and the `url:login:password`
//! lines of stealer logs. The part with an address is the email; otherwise the first part is a
//! user name; the last part is the password.

use super::batch::Out;
use super::problems::Problem;

pub(crate) fn line(line: u64, text: &str, out: &mut Out<'_>) {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return;
    }
    // A URL's own `://` is not a separator.
    let (url, rest) = match trimmed.find("://") {
        Some(position) => {
            let after = trimmed.get(position + 3..).unwrap_or("");
            let cut = after
                .find([':', ';', '|', ' '])
                .map_or(trimmed.len(), |offset| position + 3 + offset);
            (
                trimmed.get(..cut),
                trimmed
                    .get(cut..)
                    .unwrap_or("")
                    .trim_start_matches([':', ';', '|', ' ']),
            )
        }
        None => (None, trimmed),
    };
    let separator = rest.find([':', ';', '|', '\t']);
    let (login, password) = match separator {
        Some(position) => (rest.get(..position).unwrap_or(""), rest.get(position + 1..)),
        None => (rest, None),
    };
    if separator.is_none() && !login.contains('@') {
        out.problems.add(Problem::NoSeparator, line);
        return;
    }
    out.batch.begin(line);
    if let Some(url) = url {
        let column = out.columns.id("url");
        out.field(column, url);
    }
    let column = out
        .columns
        .id(if login.contains('@') { "email" } else { "username" });
    out.field(column, login);
    if let Some(password) = password {
        let column = out.columns.id("password");
        out.field(column, password);
    }
    out.batch.end();
}
