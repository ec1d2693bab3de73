//! The web desk's limits, as kept in `[desk]` of `settings.toml`: how often an account may look
//! people up or download audited documents, how long a client may take, how many connections
//! are served at once, and which `Host` names the desk answers to.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The `[desk]` table; every field has a default, so the table may be left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeskSettings {
    /// Person lookups an account may make per minute once its burst is spent.
    pub lookups_per_minute: u32,
    /// Person lookups an account may make at once.
    pub lookup_burst: u32,
    /// Audited downloads (reports) an account may make per minute once its burst is spent.
    pub downloads_per_minute: u32,
    /// Audited downloads an account may make at once.
    pub download_burst: u32,
    /// Seconds a client has to send a request's headers.
    pub header_read_seconds: u32,
    /// Seconds a request may take, from its headers to the answer's start.
    pub request_seconds: u32,
    /// Connections served at once; more wait to be accepted.
    pub connections_max: u32,
    /// `Host` values the desk answers to (name or name:port); empty means the address it serves
    /// and, on loopback, `localhost` at the same port. A request naming another host is refused
    /// (DNS rebinding).
    pub allowed_hosts: Vec<String>,
    /// How the desk writes its log on standard error: `text` (default) or `json` (one object a
    /// line, for a log collector).
    pub log_format: LogFormat,
    /// The address the desk is reached at from outside (`https://desk.example.org`): links in
    /// mail to suppliers point there. Left out, such mail names the page to open instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

/// Whether `url` is an https address with a host (http only on this machine), with nothing
/// but a path after it.
fn public_url_valid(url: &str) -> bool {
    let (rest, secure) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (rest, true),
        (None, Some(rest)) => (rest, false),
        (None, None) => return false,
    };
    let host = rest.split('/').next().unwrap_or_default();
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    let local = matches!(name, "localhost" | "127.0.0.1" | "[::1]");
    url.len() <= 200
        && !name.is_empty()
        && (secure || local)
        && rest
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || ".-:[]/_~".contains(character))
}

/// The desk's log lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines.
    #[default]
    Text,
    /// One JSON object a line.
    Json,
}

impl Default for DeskSettings {
    fn default() -> Self {
        DeskSettings {
            lookups_per_minute: 6,
            lookup_burst: 10,
            downloads_per_minute: 6,
            download_burst: 20,
            header_read_seconds: 10,
            request_seconds: 120,
            connections_max: 256,
            allowed_hosts: Vec::new(),
            log_format: LogFormat::Text,
            public_url: None,
        }
    }
}

impl DeskSettings {
    /// Whether every field is the default (then the table is not written).
    pub fn is_default(&self) -> bool {
        *self == DeskSettings::default()
    }

    /// Checks every field; the first bad one is named.
    pub fn validate(&self) -> Result<()> {
        let ranges: [(&str, u32, u32, u32); 7] = [
            ("desk.lookups_per_minute", self.lookups_per_minute, 1, 10_000),
            ("desk.lookup_burst", self.lookup_burst, 1, 10_000),
            ("desk.downloads_per_minute", self.downloads_per_minute, 1, 10_000),
            ("desk.download_burst", self.download_burst, 1, 10_000),
            ("desk.header_read_seconds", self.header_read_seconds, 1, 600),
            ("desk.request_seconds", self.request_seconds, 1, 3_600),
            ("desk.connections_max", self.connections_max, 1, 100_000),
        ];
        for (name, value, low, high) in ranges {
            if !(low..=high).contains(&value) {
                return Err(Error::invalid(
                    name,
                    &value.to_string(),
                    format!("{low} to {high}"),
                ));
            }
        }
        for host in &self.allowed_hosts {
            let valid = !host.is_empty()
                && host.len() <= 253
                && host
                    .chars()
                    .all(|character| character.is_ascii_alphanumeric() || ".-:[]".contains(character));
            if !valid {
                return Err(Error::invalid(
                    "desk.allowed_hosts",
                    host,
                    "host names such as desk.example.org or desk.example.org:8443",
                ));
            }
        }
        if let Some(url) = &self.public_url
            && !public_url_valid(url)
        {
            return Err(Error::invalid(
                "desk.public_url",
                url,
                "an https address such as https://desk.example.org (no query, no credentials; \
                 http only for localhost)",
            ));
        }
        Ok(())
    }

    /// The desk's address for a path such as `/supplier/incidents/3`, when it is known.
    pub fn link(&self, path: &str) -> Option<String> {
        self.public_url
            .as_ref()
            .map(|base| format!("{}{path}", base.trim_end_matches('/')))
    }
}

#[cfg(test)]
mod public_url_tests {
    use super::public_url_valid;

    #[test]
    fn a_public_address_is_https_with_a_host() {
        assert!(public_url_valid("https://desk.example.org"));
        assert!(public_url_valid("https://desk.example.org:8443/custody/"));
        assert!(public_url_valid("http://localhost:8080"));
        for bad in [
            "http://desk.example.org",
            "https:///",
            "https://",
            "https://user:pw@desk.example.org",
            "https://desk.example.org/?next=x",
            "ftp://desk.example.org",
            "desk.example.org",
        ] {
            assert!(!public_url_valid(bad), "{bad}");
        }
    }
}
