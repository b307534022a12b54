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

pub fn init() {
    let filter = EnvFilter::try_from_env("PETREL_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let file = log_dir().and_then(|dir| {
        std::fs::create_dir_all(&dir).ok()?;
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
