//! Certificate trust: CA-verified certificates, plus at most one certificate the user pinned
//! for this account after seeing its fingerprint. The verifier remembers the certificate it
//! was shown so a refusal can tell the user exactly what they would be trusting.

use petrel_core::CertificateDetails;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// Which certificates a connection accepts besides the public web PKI.
#[derive(Debug, Clone, Default)]
pub struct TrustPolicy {
    /// Extra CA certificates (DER), e.g. a company CA. Tests use the harness CA here.
    pub extra_roots: Vec<CertificateDer<'static>>,
}

impl TrustPolicy {
    /// Parses PEM certificates into extra roots.
    pub fn with_pem_roots(pem: &[u8]) -> Result<Self, String> {
        let mut reader = std::io::BufReader::new(pem);
        let roots = rustls_pemfile::certs(&mut reader)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("bad PEM certificate: {e}"))?;
        Ok(TrustPolicy { extra_roots: roots })
    }
}

pub fn sha256_hex(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// Subject and issuer in a readable form; falls back to "unknown" for certificates too
/// broken to parse (the fingerprint is still exact).
pub fn describe(der: &CertificateDer<'_>, host: &str) -> CertificateDetails {
    let (subject, issuer) = match x509_parser::parse_x509_certificate(der.as_ref()) {
        Ok((_, cert)) => (cert.subject().to_string(), cert.issuer().to_string()),
        Err(_) => ("unknown".to_string(), "unknown".to_string()),
    };
    CertificateDetails {
        subject,
        issuer,
        sha256: sha256_hex(der.as_ref()),
        host: host.to_string(),
        reason: String::new(),
    }
}

#[derive(Debug)]
pub(crate) struct PinningVerifier {
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
    pinned_sha256: Option<String>,
    /// The end-entity certificate of the last handshake, for the "trust this?" question.
    pub(crate) presented: Mutex<Option<CertificateDer<'static>>>,
}

impl PinningVerifier {
    pub(crate) fn new(policy: &TrustPolicy, pinned_sha256: Option<String>) -> Result<Self, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for der in &policy.extra_roots {
            roots
                .add(der.clone())
                .map_err(|e| format!("bad extra root certificate: {e}"))?;
        }
        let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("cannot build certificate verifier: {e}"))?;
        Ok(PinningVerifier {
            webpki,
            provider,
            pinned_sha256: pinned_sha256.map(|p| p.to_ascii_lowercase()),
            presented: Mutex::new(None),
        })
    }
}

impl ServerCertVerifier for PinningVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.presented.lock().unwrap_or_else(|p| p.into_inner()) =
            Some(end_entity.clone().into_owned());
        // The pin is an exact match on the certificate the user saw; it says nothing about
        // any other certificate, so a rotated server certificate asks again.
        if let Some(pin) = &self.pinned_sha256 {
            if sha256_hex(end_entity.as_ref()) == *pin {
                return Ok(ServerCertVerified::assertion());
            }
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
