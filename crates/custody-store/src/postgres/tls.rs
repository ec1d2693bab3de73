//! TLS to PostgreSQL, with libpq's `sslmode` and `sslrootcert` read from the database URL
//! (PostgreSQL manual, "SSL Support" in libpq): `disable` sends in the clear; `prefer` (the
//! default) encrypts when the server offers it; `require` always encrypts; neither checks the
//! server's certificate unless an authority file is given, when `require` checks the chain as
//! `verify-ca` does; `verify-ca` checks the chain, and `verify-full` the chain and the host name.
//! The authorities are those in `sslrootcert`, else in `~/.postgresql/root.crt` as libpq reads
//! it; `sslrootcert=system` takes the public authorities (webpki roots), with `verify-full` only,
//! since any public certificate would pass a check of the chain alone.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::error::{Error, Result};

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// The TLS options of a database URL, taken out of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Options {
    pub mode: Mode,
    pub root: Option<Root>,
}

/// Where the authorities come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Root {
    File(PathBuf),
    /// `sslrootcert=system`: the public authorities.
    System,
}

/// Splits `sslmode` and `sslrootcert` off `url` (the `postgres` crate knows neither `verify-*`
/// nor `sslrootcert`); returns the rest of the URL and the options.
pub(super) fn split(url: &str) -> Result<(String, Options)> {
    let mut options = Options {
        mode: Mode::Prefer,
        root: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), options));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => options.mode = mode(value)?,
            "sslrootcert" => {
                let decoded = percent_decoded(value)?;
                options.root = Some(if decoded == "system" {
                    Root::System
                } else {
                    Root::File(PathBuf::from(decoded))
                });
            }
            _ => kept.push(pair),
        }
    }
    if options.root.is_some() && options.mode == Mode::Disable {
        return Err(Error::Connect(
            "the database URL names an sslrootcert but sslmode=disable".to_owned(),
        ));
    }
    if options.root == Some(Root::System) && options.mode != Mode::VerifyFull {
        return Err(Error::Connect(
            "sslrootcert=system takes the public authorities, which vouch for anyone's certificate: \
             it needs sslmode=verify-full, which checks the host name too"
                .to_owned(),
        ));
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, options))
}

fn mode(value: &str) -> Result<Mode> {
    match value {
        "disable" => Ok(Mode::Disable),
        "prefer" => Ok(Mode::Prefer),
        "require" => Ok(Mode::Require),
        "verify-ca" => Ok(Mode::VerifyCa),
        "verify-full" => Ok(Mode::VerifyFull),
        other => Err(Error::Connect(format!(
            "sslmode={other} in the database URL: expected disable, prefer, require, verify-ca or verify-full"
        ))),
    }
}

fn percent_decoded(value: &str) -> Result<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while let Some(&byte) = bytes.get(index) {
        if byte == b'%' {
            let hex = bytes
                .get(index + 1..index + 3)
                .filter(|pair| pair.iter().all(u8::is_ascii_hexdigit))
                .and_then(|pair| std::str::from_utf8(pair).ok())
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| {
                    Error::Connect(format!(
                        "sslrootcert={value:?}: a % is not followed by two hex digits"
                    ))
                })?;
            out.push(hex);
            index += 3;
        } else {
            out.push(byte);
            index += 1;
        }
    }
    String::from_utf8(out).map_err(|_| Error::Connect(format!("sslrootcert={value:?} is not UTF-8")))
}

/// What the `postgres` crate is told, and the TLS client to use (none for `disable`).
pub(super) fn client(options: &Options) -> Result<(SslMode, Option<ClientConfig>)> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    // libpq's default authority file, when the URL names none.
    let root = options.root.clone().or_else(|| {
        let file = PathBuf::from(std::env::var_os("HOME")?).join(".postgresql/root.crt");
        file.exists().then_some(Root::File(file))
    });
    let checks_chain = matches!(options.mode, Mode::VerifyCa | Mode::VerifyFull)
        || (options.mode == Mode::Require && root.is_some());
    let verifier: Arc<dyn ServerCertVerifier> = match options.mode {
        Mode::Disable => return Ok((SslMode::Disable, None)),
        _ if !checks_chain => Arc::new(EncryptOnly(provider.clone())),
        mode => {
            let roots = Arc::new(roots(root.as_ref(), mode)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|error| Error::Connect(format!("the TLS authorities cannot be used: {error}")))?;
            if mode == Mode::VerifyFull {
                webpki
            } else {
                Arc::new(AnyName(webpki))
            }
        }
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::Connect(format!("TLS cannot be set up: {error}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let ssl_mode = if options.mode == Mode::Prefer {
        SslMode::Prefer
    } else {
        SslMode::Require
    };
    Ok((ssl_mode, Some(config)))
}

fn roots(root: Option<&Root>, mode: Mode) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    let file: &Path = match root {
        Some(Root::File(file)) => file,
        Some(Root::System) => {
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            return Ok(store);
        }
        None => {
            return Err(Error::Connect(format!(
                "sslmode={} checks the server's certificate, but no authority was given: add \
                 sslrootcert=FILE (the authority that signed the server's certificate), or \
                 sslrootcert=system for a certificate from a public authority",
                if mode == Mode::VerifyCa {
                    "verify-ca"
                } else {
                    "verify-full"
                }
            )));
        }
    };
    let unreadable =
        |error: &dyn std::fmt::Display| Error::Connect(format!("sslrootcert {}: {error}", file.display()));
    for certificate in CertificateDer::pem_file_iter(file).map_err(|error| unreadable(&error))? {
        let certificate = certificate.map_err(|error| unreadable(&error))?;
        store.add(certificate).map_err(|error| unreadable(&error))?;
    }
    if store.is_empty() {
        return Err(unreadable(&"holds no certificate (expected PEM)"));
    }
    Ok(store)
}

/// `prefer` and `require` without an authority: the traffic is encrypted and the handshake's
/// signatures checked, but any certificate is taken (libpq's behaviour; a machine in the middle
/// is not stopped, which `verify-full` does).
#[derive(Debug)]
struct EncryptOnly(Arc<CryptoProvider>);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to an authority; the name in the certificate is not checked.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_options_are_taken_out_of_the_url() {
        let (rest, options) =
            split("postgresql://dpo@db.example/custody?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem")
                .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(rest, "postgresql://dpo@db.example/custody?application_name=x");
        assert_eq!(options.mode, Mode::VerifyFull);
        assert_eq!(options.root, Some(Root::File(PathBuf::from("/etc/ca.pem"))));
        let (rest, options) =
            split("postgresql://dpo@db.example/custody").unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(rest, "postgresql://dpo@db.example/custody");
        assert_eq!(options.mode, Mode::Prefer);
        assert!(split("postgresql://dpo@h/d?sslmode=verify").is_err());
        assert!(split("postgresql://dpo@h/d?sslmode=disable&sslrootcert=/ca.pem").is_err());
        assert!(split("postgresql://dpo@h/d?sslrootcert=%2").is_err());
        assert!(split("postgresql://dpo@h/d?sslrootcert=%+A").is_err());
        let (_, system) = split("postgresql://dpo@h/d?sslmode=verify-full&sslrootcert=system")
            .unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(system.root, Some(Root::System));
        assert!(split("postgresql://dpo@h/d?sslmode=verify-ca&sslrootcert=system").is_err());
        assert!(split("postgresql://dpo@h/d?sslmode=require&sslrootcert=system").is_err());
    }
}
