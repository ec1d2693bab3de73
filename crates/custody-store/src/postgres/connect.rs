//! Reaching PostgreSQL: the URL as settings keep it (never with a password), the password from
//! the environment or the user's password file, as libpq finds it.

use std::path::PathBuf;

use postgres::config::Host;
use postgres::{Client, Config, NoTls};

use super::tls;
use crate::error::{Error, Result};

/// Whether `url` names a PostgreSQL database (`postgresql://…` or `postgres://…`).
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgresql://") || url.starts_with("postgres://")
}

/// Parses a database URL as custody keeps it: a password in it is refused, because the URL is
/// kept in `settings.toml`, beside which it would be read by anyone who reads the settings.
/// `sslmode` and `sslrootcert` are read as libpq reads them (see `tls`).
pub fn parse_url(url: &str) -> Result<Config> {
    parse(url).map(|(config, _)| config)
}

fn parse(url: &str) -> Result<(Config, tls::Options)> {
    if !is_postgres_url(url) {
        return Err(Error::Connect(format!(
            "{url:?} is not a PostgreSQL URL: expected postgresql://user@host[:port]/database"
        )));
    }
    let (rest, options) = tls::split(url)?;
    let config: Config = rest
        .parse()
        .map_err(|error| Error::Connect(format!("the database URL cannot be read: {error}")))?;
    if config.get_password().is_some() {
        return Err(Error::Connect(
            "the database URL carries a password; custody keeps the URL in settings.toml, so give the \
             password in CUSTODY_DATABASE_PASSWORD or PGPASSWORD, or in ~/.pgpass"
                .to_owned(),
        ));
    }
    if config.get_user().is_none() {
        return Err(Error::Connect(
            "the database URL names no user: expected postgresql://user@host[:port]/database".to_owned(),
        ));
    }
    Ok((config, options))
}

/// Connects to the database at `url`, with the password from `CUSTODY_DATABASE_PASSWORD`,
/// `PGPASSWORD` or the password file (`PGPASSFILE`, else `~/.pgpass`), in that order.
pub(super) fn connect(url: &str) -> Result<Client> {
    let (mut config, options) = parse(url)?;
    config.application_name("custody");
    if let Some(password) = password_for(&config) {
        config.password(password);
    }
    let password_given = config.get_password().is_some();
    let (ssl_mode, tls) = tls::client(&options)?;
    config.ssl_mode(ssl_mode);
    let connected = match tls {
        None => config.connect(NoTls),
        Some(client) => config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(client)),
    };
    connected.map_err(|error| {
        let mut said = error.to_string();
        let mut cause = std::error::Error::source(&error);
        while let Some(inner) = cause {
            said.push_str(&format!(": {inner}"));
            cause = inner.source();
        }
        if !password_given && said.contains("password") {
            said.push_str(
                " (no password was found in CUSTODY_DATABASE_PASSWORD, PGPASSWORD or the password file)",
            );
        }
        Error::Connect(format!("cannot reach {url}: {said}"))
    })
}

fn password_for(config: &Config) -> Option<String> {
    for variable in ["CUSTODY_DATABASE_PASSWORD", "PGPASSWORD"] {
        if let Ok(password) = std::env::var(variable)
            && !password.is_empty()
        {
            return Some(password);
        }
    }
    let file = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".pgpass")))?;
    let text = std::fs::read_to_string(file).ok()?;
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        #[cfg(unix)]
        Some(Host::Unix(_)) | None => "localhost".to_owned(),
        #[cfg(not(unix))]
        None => "localhost".to_owned(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432).to_string();
    let user = config.get_user().unwrap_or_default();
    let database = config.get_dbname().unwrap_or(user);
    pgpass_lookup(&text, [&host, &port, database, user])
}

/// The password of the first line of a password file that matches (`*` matches anything; `\:`
/// and `\\` are a colon and a backslash), as libpq reads it.
fn pgpass_lookup(text: &str, wanted: [&str; 4]) -> Option<String> {
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let mut fields = Vec::with_capacity(5);
        let mut field = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => field.extend(chars.next()),
                ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
                _ => field.push(c),
            }
        }
        fields.push(field);
        let [host, port, database, user, password] = fields.as_slice() else {
            continue;
        };
        let matches = [host, port, database, user]
            .iter()
            .zip(wanted)
            .all(|(pattern, value)| pattern.as_str() == "*" || pattern.as_str() == value);
        if matches {
            return Some(password.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_files_are_read_as_libpq_reads_them() {
        let text = "# comment\nother:5432:*:*:no\n127.0.0.1:5433:custody:dpo:pa\\:ss\n*:*:*:*:fallback\n";
        assert_eq!(
            pgpass_lookup(text, ["127.0.0.1", "5433", "custody", "dpo"]).as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            pgpass_lookup(text, ["db.example", "5432", "x", "y"]).as_deref(),
            Some("fallback")
        );
        assert_eq!(pgpass_lookup("h:1:d:u\n", ["h", "1", "d", "u"]), None);
    }

    #[test]
    fn urls_with_passwords_or_without_users_are_refused() {
        assert!(parse_url("postgresql://dpo:secret@127.0.0.1/custody").is_err());
        assert!(parse_url("postgresql://127.0.0.1/custody").is_err());
        assert!(parse_url("mysql://dpo@127.0.0.1/custody").is_err());
        assert!(parse_url("postgresql://dpo@127.0.0.1:5433/custody").is_ok());
    }
}
