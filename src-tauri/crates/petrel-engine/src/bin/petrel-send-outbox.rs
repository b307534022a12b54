//! One pass over every account's outbox from the command line, for the send-path kill -9
//! test (which kills it at random points). The password is read from standard input,
//! never from arguments or files; it serves every account of the config dir.
//!
//! petrel-send-outbox --config DIR --cache DIR --ca CA.pem
//! Prints `sent=… queued=…` summed over the accounts.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::AccountId;
use petrel_engine::{Engine, EngineError, SecretStore, SledCache, TrustPolicy};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

struct OnePassword(String);

impl SecretStore for OnePassword {
    fn set_password(&self, _: &AccountId, _: &str) -> Result<(), EngineError> {
        Ok(())
    }
    fn password(&self, _: &AccountId) -> Result<String, EngineError> {
        Ok(self.0.clone())
    }
    fn delete_password(&self, _: &AccountId) -> Result<(), EngineError> {
        Ok(())
    }
    fn set_refresh_token(&self, _: &AccountId, _: &str) -> Result<(), EngineError> {
        Ok(())
    }
    fn refresh_token(&self, _: &AccountId) -> Result<Option<String>, EngineError> {
        Ok(None)
    }
    fn delete_refresh_token(&self, _: &AccountId) -> Result<(), EngineError> {
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    match run() {
        Ok(line) => {
            println!("{line}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("petrel-send-outbox: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, String> {
    let mut args = std::env::args().skip(1);
    let (mut config, mut cache, mut ca) = (None, None, None);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--config" => config = Some(PathBuf::from(value()?)),
            "--cache" => cache = Some(PathBuf::from(value()?)),
            "--ca" => ca = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let config = config.ok_or("--config is required")?;
    let cache = cache.ok_or("--cache is required")?;
    let ca = std::fs::read(ca.ok_or("--ca is required")?).map_err(|e| e.to_string())?;
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .map_err(|e| e.to_string())?;
    let password = password.trim_end_matches(['\r', '\n']).to_string();
    let trust = TrustPolicy::with_pem_roots(&ca).map_err(|e| e.to_string())?;
    let cache = Arc::new(SledCache::open(&cache).map_err(|e| e.to_string())?);
    let engine = Engine::open(&config, Arc::new(OnePassword(password)), trust, cache)
        .map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let (mut sent, mut queued) = (0, 0);
        for account in engine.accounts() {
            let report = engine
                .flush_outbox(&account.id)
                .await
                .map_err(|e| e.to_string())?;
            sent += report.sent;
            queued += report.queued;
        }
        Ok(format!("sent={sent} queued={queued}"))
    })
}
