//! What the benchmarks share: the bare IMAP client (the baseline) and small helpers.
#![allow(dead_code)]

use petrel_core::{NewAccount, Security, ServerSettings};
use petrel_harness::Harness;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

/// The bare client: TLS, LOGIN, then each command, reading until its tagged reply.
pub struct Bare {
    stream: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
    buf: Vec<u8>,
    tag: u32,
}

impl Bare {
    pub async fn connect(h: &Harness, ca: &[u8]) -> Bare {
        let mut roots = rustls::RootCertStore::empty();
        let mut reader = std::io::BufReader::new(ca);
        for cert in rustls_pemfile_certs(&mut reader) {
            roots.add(cert).unwrap();
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", h.ports.imaps))
            .await
            .unwrap();
        tcp.set_nodelay(true).unwrap();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .unwrap();
        let mut bare = Bare {
            stream,
            buf: Vec::with_capacity(1 << 20),
            tag: 0,
        };
        bare.read_until(b"* OK").await;
        let alice = h.user("alice");
        bare.command(&format!("LOGIN \"{}\" \"{}\"", alice.login, alice.password))
            .await;
        bare
    }

    /// Reads until a line starting with `prefix` has arrived, then drops everything up to
    /// and including that line. Scans only new bytes, so long replies cost O(n).
    pub async fn read_until(&mut self, prefix: &[u8]) -> String {
        let mut chunk = [0u8; 64 * 1024];
        let mut line_start = 0;
        let mut scanned = 0;
        loop {
            while let Some(eol) = self.buf[scanned..].windows(2).position(|w| w == b"\r\n") {
                let end = scanned + eol + 2;
                if self.buf[line_start..end].starts_with(prefix) {
                    let line = String::from_utf8_lossy(&self.buf[line_start..end]).into_owned();
                    self.buf.drain(..end);
                    return line;
                }
                line_start = end;
                scanned = end;
            }
            // Lines already scanned are discarded: the buffer holds one partial line, not
            // the whole reply (which would inflate the process's memory for later measures).
            self.buf.drain(..line_start);
            line_start = 0;
            scanned = self.buf.len().saturating_sub(1);
            let n = self.stream.read(&mut chunk).await.unwrap();
            assert!(n > 0, "server closed the connection");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub async fn command(&mut self, cmd: &str) {
        self.tag += 1;
        let tag = format!("B{}", self.tag);
        self.stream
            .write_all(format!("{tag} {cmd}\r\n").as_bytes())
            .await
            .unwrap();
        let status = self.read_until(format!("{tag} ").as_bytes()).await;
        assert!(
            status.starts_with(&format!("{tag} OK")),
            "{cmd:?} failed: {status}"
        );
    }
}

fn rustls_pemfile_certs(
    reader: &mut dyn std::io::BufRead,
) -> Vec<rustls::pki_types::CertificateDer<'static>> {
    // Minimal PEM reader for the one CA file, to keep the baseline free of Petrel code.
    let mut text = String::new();
    reader.read_to_string(&mut text).unwrap();
    text.split("-----BEGIN CERTIFICATE-----")
        .skip(1)
        .filter_map(|block| block.split("-----END CERTIFICATE-----").next())
        .map(|b64| {
            rustls::pki_types::CertificateDer::from(base64_decode(&b64.replace(['\n', '\r'], "")))
        })
        .collect()
}

fn base64_decode(s: &str) -> Vec<u8> {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = T.iter().position(|&t| t == c).unwrap() as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// This process's resident memory now and at its peak, in MB (Linux /proc).
pub fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU time this process has used so far (user + system, every thread), in ms: a run's
/// own work, steadier than its wall time on a machine whose two cores it shares with the
/// server. Linux only (`/proc/self/stat`, clock ticks of 10 ms).
pub fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let field = |i: usize| {
        rest.split_whitespace()
            .nth(i)
            .and_then(|n| n.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat(5): 12 and 13 after the name.
    (field(11) + field(12)) * 10.0
}

/// A size from the environment (`PETREL_BENCH_MESSAGES`…), else `default`.
pub fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Deterministic pseudo-random numbers (splitmix64).
pub fn mix(i: usize, salt: u64) -> u64 {
    let mut z = (i as u64)
        .wrapping_add(salt)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// alice's IMAPS account on the harness, as the benches add it.
pub fn account_form(h: &Harness) -> NewAccount {
    let alice = h.user("alice");
    NewAccount {
        display_name: "Bench".into(),
        email: alice.login.clone(),
        imap: ServerSettings {
            host: "localhost".into(),
            port: h.ports.imaps,
            security: Security::Tls,
            username: alice.login.clone(),
            pinned_cert_sha256: None,
        },
        password: alice.password.clone(),
        protocol: Default::default(),
        pop3: Default::default(),
        smtp: None,
        sending: Default::default(),
        sign_in: Default::default(),
        sign_in_ticket: None,
    }
}

/// Runs a bench's work as the app runs its commands: spawned on one of the runtime's
/// workers (Tauri spawns them). Awaited straight on `block_on`, every socket wake-up would
/// hop from the worker that polls the reactor to the main thread (a futex wake and a
/// context switch per read).
pub fn run_as_the_app_does<F>(runtime: &tokio::runtime::Runtime, work: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    runtime.block_on(runtime.spawn(work)).unwrap()
}
