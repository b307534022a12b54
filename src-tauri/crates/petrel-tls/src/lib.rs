//! TLS for IMAP, POP3 and SMTP alike: CA-verified certificates (the public WebPKI roots
//! plus configured extra CAs), or the one certificate the user pinned after seeing its
//! fingerprint. A refusal says why in words and carries the certificate, so the UI can ask
//! "trust this?" with exactly what would be trusted.
#![forbid(unsafe_code)]

mod bounded;
mod verifier;

pub use bounded::{size_words, Bounded, ReplyMeter, ReplyTooLarge};
pub use verifier::{describe, sha256_hex, TrustPolicy};

use petrel_core::CertificateDetails;
use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use verifier::PinningVerifier;

/// Why a TLS handshake failed.
#[derive(Debug)]
pub enum TlsFailure {
    /// The certificate is not trusted: `reason` in words, and what was presented.
    Untrusted {
        reason: String,
        certificate: Box<CertificateDetails>,
    },
    /// Another TLS problem (protocol versions, a bad host name, configuration).
    Tls(String),
    /// The connection dropped during the handshake.
    Lost(String),
}

/// A rustls client configuration with the same trust (public roots plus the policy's extra
/// CAs, no pin), for other clients such as the setup wizard's HTTPS fetches.
pub fn client_config(trust: &TrustPolicy) -> Result<rustls::ClientConfig, String> {
    let verifier = Arc::new(PinningVerifier::new(trust, None)?);
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .dangerous() // Only to install our verifier, which still runs full WebPKI checks.
    .with_custom_certificate_verifier(verifier)
    .with_no_client_auth())
}

/// Runs the client handshake on `tcp` for `host`, accepting CA-verified certificates or
/// the one whose SHA-256 is `pinned_sha256`.
pub async fn handshake(
    tcp: TcpStream,
    host: &str,
    trust: &TrustPolicy,
    pinned_sha256: Option<String>,
) -> Result<TlsStream<TcpStream>, TlsFailure> {
    let verifier = Arc::new(PinningVerifier::new(trust, pinned_sha256).map_err(TlsFailure::Tls)?);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| TlsFailure::Tls(e.to_string()))?
    .dangerous() // Only to install our verifier, which still runs full WebPKI checks.
    .with_custom_certificate_verifier(verifier.clone())
    .with_no_client_auth();
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| TlsFailure::Tls(format!("bad host name {host:?}: {e}")))?;
    match TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
    {
        Ok(stream) => Ok(stream),
        Err(io) => Err(classify(io, &verifier, host)),
    }
}

fn classify(io: std::io::Error, verifier: &PinningVerifier, host: &str) -> TlsFailure {
    let rustls_error = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(reason)) => {
            let presented = verifier
                .presented
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            match presented {
                Some(der) => {
                    let reason = certificate_reason(reason);
                    TlsFailure::Untrusted {
                        certificate: Box::new(CertificateDetails {
                            reason: reason.clone(),
                            ..describe(&der, host)
                        }),
                        reason,
                    }
                }
                None => TlsFailure::Tls(format!("invalid certificate: {reason:?}")),
            }
        }
        Some(other) => TlsFailure::Tls(other.to_string()),
        None => TlsFailure::Lost(format!("during TLS handshake: {io}")),
    }
}

fn certificate_reason(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => {
            "it is not signed by an authority this computer trusts (self-signed or private CA)"
                .into()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "it was issued for a different host name".into()
        }
        C::Expired | C::ExpiredContext { .. } => "it has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "it is not valid yet (check the computer's clock)".into()
        }
        C::Revoked => "it has been revoked".into(),
        other => format!("{other:?}"),
    }
}
