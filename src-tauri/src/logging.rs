//! Logs go to stderr and to `petrel.log` in the log dir (`$PETREL_LOG_DIR`, else the OS
//! local data dir). Engine code never logs secrets; a test greps this file for them.

use std::sync::Mutex;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

pub fn log_dir() -> Option<std::path::PathBuf> {
    if let Some(dir) = std::env::var_os("PETREL_LOG_DIR") {
        return Some(dir.into());
    }
    dirs::data_local_dir().map(|d| d.join("petrel").join("logs"))
}

/// The log is cut when it passes this size: the old one is kept as `petrel.log.1`.
const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;

/// Targets held at `info` whatever `PETREL_LOG` asks: async-imap traces every line it
/// encodes (`LOGIN user "password"`) and imap-proto/lettre every byte of mail (review L3).
const QUIET: &[&str] = &[
    "async_imap=info",
    "imap_proto=info",
    "lettre=info",
    "rustls=info",
];

fn filter() -> EnvFilter {
    let mut filter =
        EnvFilter::try_from_env("PETREL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    for directive in QUIET {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

pub fn init() {
    let filter = filter();
    let file = log_dir().and_then(|dir| {
        let _ = petrel_engine::instance::create_private_dir(&dir);
        let path = dir.join("petrel.log");
        if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
            let _ = std::fs::rename(&path, dir.join("petrel.log.1"));
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("petrel.log"))
            .ok()
    });
    let file_layer = file.map(|f| fmt::layer().with_ansi(false).with_writer(Mutex::new(f)));
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(fmt::layer().with_writer(std::io::stderr))
        .with(file_layer)
        .try_init();
}
