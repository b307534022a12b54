//! Shared set-up of the engine tests: a harness, an engine on a sled cache in a temp dir,
//! alice's account added, and helpers that ask Dovecot (not Petrel) what it holds.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{AccountId, NewAccount, Security, ServerSettings};
use petrel_engine::{Engine, SledCache, TrustPolicy};
use petrel_harness::{Harness, MemorySecrets, Proxy};
use std::sync::Arc;

pub fn mail(i: u32) -> Vec<u8> {
    format!("From: Sender {i} <s{i}@example.test>\r\nSubject: message {i}\r\nDate: Mon, 02 Nov 2026 10:{:02}:00 +0000\r\n\r\nbody {i}\r\n", i % 60)
        .into_bytes()
}

pub struct Fixture {
    pub h: Harness,
    pub config: tempfile::TempDir,
    pub cache_dir: tempfile::TempDir,
    pub secrets: Arc<MemorySecrets>,
    /// When set, the account connects through this relay (to cut the network at will).
    pub proxy: Option<Proxy>,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            h: Harness::start().unwrap(),
            config: tempfile::tempdir().unwrap(),
            cache_dir: tempfile::tempdir().unwrap(),
            secrets: Arc::default(),
            proxy: None,
        }
    }

    /// As `new`, on a Dovecot that creates no folder by itself (Trash, Sent… missing until
    /// a client makes them), as Dovecot's default configuration does.
    pub fn bare() -> Fixture {
        Fixture {
            h: Harness::start_bare().unwrap(),
            config: tempfile::tempdir().unwrap(),
            cache_dir: tempfile::tempdir().unwrap(),
            secrets: Arc::default(),
            proxy: None,
        }
    }

    /// As `bare`, with the account's IMAPS connection relayed through a [`Proxy`].
    pub fn bare_with_proxy() -> Fixture {
        let mut f = Fixture::bare();
        f.proxy = Some(Proxy::start(f.h.ports.imaps).unwrap());
        f
    }

    /// As `new`, with the account's IMAPS connection relayed through a [`Proxy`].
    pub fn with_proxy() -> Fixture {
        let mut f = Fixture::new();
        f.proxy = Some(Proxy::start(f.h.ports.imaps).unwrap());
        f
    }

    /// Puts generated messages 1..=n (`mail(i)`) into alice's `folder`, unread.
    pub fn seed_mail(&self, folder: &str, n: u32) {
        self.h
            .seed(
                "alice",
                folder,
                &(1..=n).map(mail).collect::<Vec<_>>(),
                false,
            )
            .unwrap();
    }

    pub fn proxy(&self) -> &Proxy {
        self.proxy.as_ref().expect("Fixture::with_proxy")
    }

    pub fn engine(&self, cache_dir: &std::path::Path) -> Engine {
        self.engine_with_cache(cache_dir).0
    }

    /// The engine and its cache, for tests that look into the cache directly.
    pub fn engine_with_cache(&self, cache_dir: &std::path::Path) -> (Engine, Arc<SledCache>) {
        let cache = Arc::new(SledCache::open(cache_dir).unwrap());
        let trust = TrustPolicy::with_pem_roots(self.h.ca_pem().as_bytes()).unwrap();
        let engine = Engine::open(
            self.config.path(),
            self.secrets.clone(),
            trust,
            cache.clone(),
        )
        .unwrap();
        (engine, cache)
    }

    /// An engine on the fixture's cache with alice's account added.
    pub async fn start(&self) -> (Engine, AccountId) {
        let engine = self.engine(self.cache_dir.path());
        let id = self.account(&engine).await;
        (engine, id)
    }

    pub async fn account(&self, engine: &Engine) -> AccountId {
        let alice = self.h.user("alice");
        let form = NewAccount {
            display_name: "Alice".into(),
            email: alice.login.clone(),
            imap: ServerSettings {
                host: "localhost".into(),
                port: self.proxy.as_ref().map_or(self.h.ports.imaps, |p| p.port),
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
        };
        engine.add_account(form).await.unwrap().id
    }
}

/// `user`'s submission server on `port` (implicit TLS), for `set_smtp`.
pub fn submission(f: &Fixture, user: &str, port: u16) -> ServerSettings {
    ServerSettings {
        host: "localhost".into(),
        port,
        security: Security::Tls,
        username: f.h.user(user).login.clone(),
        pinned_cert_sha256: None,
    }
}

pub async fn subjects(engine: &Engine, id: &AccountId, folder: &str, refresh: bool) -> Vec<String> {
    engine
        .envelopes(id, folder, 0, 1000, refresh)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r.subject)
        .collect()
}

/// Flags of one message as Dovecot has them, read by doveadm (not through Petrel).
pub fn server_flags(h: &Harness, folder: &str, subject: &str) -> String {
    h.doveadm(
        "alice",
        &["fetch"],
        &["flags", "mailbox", folder, "HEADER", "Subject", subject],
    )
    .unwrap()
}

/// Subjects in a folder as Dovecot has them, sorted (doveadm, not Petrel).
pub fn server_subjects(h: &Harness, folder: &str) -> Vec<String> {
    let out = h
        .doveadm(
            "alice",
            &["fetch"],
            &["hdr.subject", "mailbox", folder, "ALL"],
        )
        .unwrap_or_default();
    let mut subjects: Vec<String> = out
        .lines()
        .filter_map(|l| l.strip_prefix("hdr.subject: "))
        .map(|s| s.trim().to_string())
        .collect();
    subjects.sort();
    subjects
}

/// UID → (seen, flagged) of every message in a folder as Dovecot has them (doveadm).
pub fn server_state(h: &Harness, folder: &str) -> std::collections::BTreeMap<u32, (bool, bool)> {
    let out = h
        .doveadm(
            "alice",
            &["fetch"],
            &["uid flags", "mailbox", folder, "ALL"],
        )
        .unwrap_or_default();
    let mut state = std::collections::BTreeMap::new();
    let mut uid = None;
    for line in out.lines() {
        if let Some(n) = line.strip_prefix("uid: ") {
            uid = n.trim().parse::<u32>().ok();
        } else if let Some(flags) = line.strip_prefix("flags:") {
            if let Some(u) = uid.take() {
                state.insert(u, (flags.contains("\\Seen"), flags.contains("\\Flagged")));
            }
        }
    }
    state
}

/// The same, as the engine's cache has it.
pub async fn cached_state(
    engine: &Engine,
    id: &AccountId,
    folder: &str,
) -> std::collections::BTreeMap<u32, (bool, bool)> {
    engine
        .envelopes(id, folder, 0, 1_000, false)
        .await
        .unwrap()
        .rows
        .into_iter()
        .map(|r| (r.uid, (r.seen, r.flagged)))
        .collect()
}

/// alice's POP3 account over POP3S (mail left 14 days, deleted when deleted here).
pub fn pop3_form(f: &Fixture, password: &str) -> NewAccount {
    let alice = f.h.user("alice");
    NewAccount {
        display_name: "Alice (POP3)".into(),
        email: alice.login.clone(),
        imap: ServerSettings {
            host: "localhost".into(),
            port: f.h.ports.pop3s,
            security: Security::Tls,
            username: alice.login.clone(),
            pinned_cert_sha256: None,
        },
        password: password.into(),
        protocol: petrel_core::IncomingProtocol::Pop3,
        pop3: petrel_core::Pop3Options {
            leave_on_server: petrel_core::LeaveOnServer::Days,
            leave_days: 14,
            delete_when_deleted_here: true,
            ..petrel_core::Pop3Options::default()
        },
        smtp: None,
        sending: Default::default(),
        sign_in: Default::default(),
        sign_in_ticket: None,
    }
}

/// How many messages `folder` lists from the cache.
pub async fn total(engine: &Engine, id: &AccountId, folder: &str) -> u32 {
    engine
        .envelopes(id, folder, 0, 1, false)
        .await
        .unwrap()
        .total
}
