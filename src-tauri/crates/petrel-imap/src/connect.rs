//! TCP + TLS: implicit TLS by default, STARTTLS when chosen (see `starttls.rs`); every
//! response read through the ceiling of `reply_meter.rs`.

use crate::reply_meter::{ImapReplies, MAX_RESPONSE_BYTES};
use crate::{starttls, ImapError, TrustPolicy, CONNECT_TIMEOUT};
use petrel_core::{Security, ServerSettings};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

pub(crate) type Stream = petrel_tls::Bounded<TlsStream<TcpStream>, ImapReplies>;

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

    petrel_tls::handshake(tcp, host, trust, server.pinned_cert_sha256.clone())
        .await
        .map(|tls| petrel_tls::Bounded::new(tls, ImapReplies::new(MAX_RESPONSE_BYTES)))
        .map_err(|failure| match failure {
            petrel_tls::TlsFailure::Untrusted {
                reason,
                certificate,
            } => ImapError::CertificateUntrusted {
                reason,
                certificate,
            },
            petrel_tls::TlsFailure::Tls(message) => ImapError::Tls(message),
            petrel_tls::TlsFailure::Lost(message) => ImapError::ConnectionLost(message),
        })
}
