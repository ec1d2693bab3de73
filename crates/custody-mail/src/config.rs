//! Where notices go: the SMTP server from the settings file, each field overridden by its
//! `CUSTODY_SMTP_*` environment variable; the password only ever from the environment.

use std::time::Duration;

use custody_core::SmtpSettings;

use crate::error::{Error, Result};

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain SMTP (a local relay on loopback).
    None,
    /// Plain connection upgraded with STARTTLS, required (submission, port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl TlsMode {
    /// Parses `none`, `starttls` or `tls`.
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(TlsMode::None),
            "starttls" => Ok(TlsMode::StartTls),
            "tls" => Ok(TlsMode::Tls),
            other => Err(Error::Config(format!(
                "tls {other:?}: expected none, starttls or tls"
            ))),
        }
    }
}

/// A resolved mail server.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Protection.
    pub tls: TlsMode,
    /// User name and password, when the server wants them.
    pub credentials: Option<(String, String)>,
    /// The sender mailbox.
    pub from: String,
    /// Extra trusted certificate authorities (PEM).
    pub ca_pem: Option<Vec<u8>>,
    /// The name custody greets the server with (EHLO).
    pub hello: String,
    /// How long to wait for the server at each step.
    pub timeout: Duration,
    /// Set `TCP_NODELAY` on connections (always, except to measure what Nagle costs).
    pub nodelay: bool,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the password.
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpConfig {
    /// Resolves the settings and the environment (`env` looks a variable up); `default_from` is
    /// used when neither names a sender.
    pub fn resolve(
        settings: Option<&SmtpSettings>,
        env: &dyn Fn(&str) -> Option<String>,
        default_from: &str,
    ) -> Result<Self> {
        let empty = SmtpSettings::default();
        let file = settings.unwrap_or(&empty);
        let pick = |name: &str, value: &Option<String>| env(name).filter(|v| !v.is_empty()).or(value.clone());
        let host = pick("CUSTODY_SMTP_HOST", &file.host).ok_or_else(|| {
            Error::Config("no mail server: set [smtp] host in settings.toml or CUSTODY_SMTP_HOST".to_owned())
        })?;
        let tls = match pick("CUSTODY_SMTP_TLS", &file.tls) {
            Some(text) => TlsMode::parse(&text)?,
            None => TlsMode::StartTls,
        };
        let port = match env("CUSTODY_SMTP_PORT").filter(|v| !v.is_empty()) {
            Some(text) => text
                .trim()
                .parse()
                .map_err(|_| Error::Config(format!("CUSTODY_SMTP_PORT {text:?} is not a port number")))?,
            None => file.port.unwrap_or(match tls {
                TlsMode::None => 25,
                TlsMode::StartTls => 587,
                TlsMode::Tls => 465,
            }),
        };
        let credentials = match (
            pick("CUSTODY_SMTP_USER", &file.user),
            env("CUSTODY_SMTP_PASSWORD").filter(|password| !password.is_empty()),
        ) {
            (Some(user), Some(password)) => Some((user, password)),
            (Some(_), None) => {
                return Err(Error::Config(
                    "a user is set but CUSTODY_SMTP_PASSWORD is not (the password is never kept in settings)"
                        .to_owned(),
                ));
            }
            (None, _) => None,
        };
        if credentials.is_some() && tls == TlsMode::None && !is_loopback(&host) {
            return Err(Error::Config(
                "refusing to send a password without TLS to a server that is not on this machine".to_owned(),
            ));
        }
        let from = pick("CUSTODY_SMTP_FROM", &file.from).unwrap_or_else(|| default_from.to_owned());
        from.parse::<lettre::message::Mailbox>()
            .map_err(|error| Error::Config(format!("from {from:?}: {error}")))?;
        let ca_pem = match pick("CUSTODY_SMTP_CA_FILE", &file.ca_file) {
            Some(path) => Some(
                std::fs::read(&path).map_err(|error| Error::Config(format!("ca_file {path}: {error}")))?,
            ),
            None => None,
        };
        let hello = from
            .rsplit_once('@')
            .map(|(_, domain)| domain.trim_end_matches('>').trim().to_owned())
            .filter(|domain| !domain.is_empty())
            .unwrap_or_else(|| "localhost".to_owned());
        Ok(SmtpConfig {
            host,
            port,
            tls,
            credentials,
            from,
            ca_pem,
            hello,
            timeout: Duration::from_secs(60),
            nodelay: true,
        })
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn the_environment_overrides_the_settings() {
        let file = SmtpSettings {
            host: Some("mail.example.org".into()),
            port: Some(2525),
            tls: Some("tls".into()),
            ..SmtpSettings::default()
        };
        let config = SmtpConfig::resolve(
            Some(&file),
            &env(&[("CUSTODY_SMTP_HOST", "127.0.0.1"), ("CUSTODY_SMTP_TLS", "none")]),
            "dpo@example.org",
        )
        .unwrap();
        assert_eq!(
            (config.host.as_str(), config.port, config.tls),
            ("127.0.0.1", 2525, TlsMode::None)
        );
        assert_eq!(config.hello, "example.org");
    }

    #[test]
    fn a_password_is_needed_and_never_sent_in_the_clear_to_another_machine() {
        let file = SmtpSettings {
            host: Some("mail.example.org".into()),
            user: Some("custody".into()),
            tls: Some("none".into()),
            ..SmtpSettings::default()
        };
        let missing = SmtpConfig::resolve(Some(&file), &env(&[]), "dpo@example.org").unwrap_err();
        assert!(missing.to_string().contains("CUSTODY_SMTP_PASSWORD"), "{missing}");
        let clear = SmtpConfig::resolve(
            Some(&file),
            &env(&[("CUSTODY_SMTP_PASSWORD", "s3cret")]),
            "dpo@example.org",
        )
        .unwrap_err();
        assert!(clear.to_string().contains("without TLS"), "{clear}");
        let config = SmtpConfig::resolve(
            Some(&file),
            &env(&[
                ("CUSTODY_SMTP_PASSWORD", "s3cret"),
                ("CUSTODY_SMTP_TLS", "starttls"),
            ]),
            "dpo@example.org",
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("s3cret"));
        assert_eq!(config.port, 587);
    }

    #[test]
    fn no_host_and_bad_values_are_refused() {
        assert!(SmtpConfig::resolve(None, &env(&[]), "dpo@example.org").is_err());
        let bad_port = SmtpConfig::resolve(
            None,
            &env(&[
                ("CUSTODY_SMTP_HOST", "localhost"),
                ("CUSTODY_SMTP_PORT", "seventy"),
            ]),
            "dpo@example.org",
        );
        assert!(bad_port.is_err());
        let bad_tls = SmtpConfig::resolve(
            None,
            &env(&[("CUSTODY_SMTP_HOST", "localhost"), ("CUSTODY_SMTP_TLS", "ssl3")]),
            "dpo@example.org",
        );
        assert!(bad_tls.is_err());
    }
}
