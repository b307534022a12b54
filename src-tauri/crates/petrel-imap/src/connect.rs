//! TCP + TLS: implicit TLS by default, STARTTLS when chosen (see `starttls.rs`).

use crate::tls::{describe, PinningVerifier, TrustPolicy};
use crate::{starttls, ImapError, CONNECT_TIMEOUT};
use petrel_core::{Security, ServerSettings};
use rustls::pki_types::ServerName;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

pub(crate) type Stream = TlsStream<TcpStream>;

pub(crate) async fn connect(
    server: &ServerSettings,
    trust: &TrustPolicy,
) -> Result<Stream, ImapError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, connect_inner(server, trust)).await {
        Ok(result) => result,
        Err(_) => Err(ImapError::Unreachable {
            host: server.host.clone(),
            port: server.port,
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer within 15 s"),
        }),
    }
}

async fn connect_inner(server: &ServerSettings, trust: &TrustPolicy) -> Result<Stream, ImapError> {
    let host = server.host.trim();
    let tcp = TcpStream::connect((host, server.port))
        .await
        .map_err(|source| ImapError::Unreachable {
            host: host.to_string(),
            port: server.port,
            source,
        })?;
    let _ = tcp.set_nodelay(true);
    let tcp = match server.security {
        Security::Tls => tcp,
        Security::StartTls => starttls::negotiate(tcp).await?,
    };

    let verifier = Arc::new(
        PinningVerifier::new(trust, server.pinned_cert_sha256.clone()).map_err(ImapError::Tls)?,
    );
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| ImapError::Tls(e.to_string()))?
    .dangerous() // Only to install our verifier, which still runs full WebPKI checks.
    .with_custom_certificate_verifier(verifier.clone())
    .with_no_client_auth();
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| ImapError::Tls(format!("bad host name {host:?}: {e}")))?;
    match TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
    {
        Ok(stream) => Ok(stream),
        Err(io) => Err(classify_handshake_error(io, &verifier, host)),
    }
}

fn classify_handshake_error(
    io: std::io::Error,
    verifier: &PinningVerifier,
    host: &str,
) -> ImapError {
    let rustls_error = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidCertificate(reason)) => {
            let presented = verifier.presented.lock().ok().and_then(|slot| slot.clone());
            match presented {
                Some(der) => ImapError::CertificateUntrusted {
                    reason: certificate_reason(reason),
                    certificate: Box::new(describe(&der, host)),
                },
                None => ImapError::Tls(format!("invalid certificate: {reason:?}")),
            }
        }
        Some(other) => ImapError::Tls(other.to_string()),
        None => ImapError::ConnectionLost(format!("during TLS handshake: {io}")),
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
