//! A CA and a `localhost`/127.0.0.1 server certificate made fresh for each run. rustls
//! refuses a certificate that is its own CA, so there are two.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use sha2::{Digest, Sha256};

pub(crate) struct Certs {
    pub ca_pem: String,
    pub leaf_pem: String,
    pub leaf_key_pem: String,
    pub leaf_sha256: String,
}

pub(crate) fn generate() -> Result<Certs, String> {
    let err = |e: rcgen::Error| format!("generating test certificates: {e}");
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Petrel Test CA");
    ca.distinguished_name
        .push(DnType::OrganizationName, "Petrel test harness");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(err)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;

    // `petrel.test` and its hosts: the setup wizard's probes reach the harness under those
    // names (through a test DNS server) and must find a valid certificate.
    let mut leaf = CertificateParams::new(vec![
        "localhost".to_string(),
        "petrel.test".to_string(),
        "*.petrel.test".to_string(),
        // A domain whose only SRV record is for sending (the discovery suite).
        "*.srvsend.test".to_string(),
        // An internationalized domain, by its A-label ("bücher.test").
        "*.xn--bcher-kva.test".to_string(),
    ])
    .map_err(err)?;
    leaf.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.distinguished_name
        .push(DnType::OrganizationName, "Petrel test harness");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).map_err(err)?;

    Ok(Certs {
        ca_pem: ca_cert.pem(),
        leaf_pem: leaf_cert.pem(),
        leaf_key_pem: leaf_key.serialize_pem(),
        leaf_sha256: hex::encode(Sha256::digest(leaf_cert.der())),
    })
}
