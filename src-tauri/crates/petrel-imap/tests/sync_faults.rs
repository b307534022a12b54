//! Sync must fail cleanly, not hang or half-count, when the cache cannot take the rows.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::{AccountId, Envelope, Security, ServerSettings};
use petrel_harness::Harness;
use petrel_imap::{ImapSession, SyncError, TrustPolicy};
use petrel_store::{FolderRef, FolderState, MailCache, MemoryCache, Page, StoreError};
use std::sync::Arc;

/// A cache whose disk is "full": every insert of new rows fails.
struct FullDisk(MemoryCache);

impl MailCache for FullDisk {
    fn folder_state(&self, f: &FolderRef) -> petrel_store::Result<Option<FolderState>> {
        self.0.folder_state(f)
    }
    fn set_sync_state(&self, f: &FolderRef, v: u32, n: u32, m: u64) -> petrel_store::Result<()> {
        self.0.set_sync_state(f, v, n, m)
    }
    fn upsert(&self, _: &FolderRef, _: &[Envelope]) -> petrel_store::Result<()> {
        Err(StoreError::Corrupt("no space left on device".into()))
    }
    fn insert_new(&self, _: &FolderRef, _: &[Envelope]) -> petrel_store::Result<()> {
        Err(StoreError::Corrupt("no space left on device".into()))
    }
    fn remove(&self, f: &FolderRef, u: &[u32]) -> petrel_store::Result<()> {
        self.0.remove(f, u)
    }
    fn set_flags(&self, f: &FolderRef, u: u32, s: bool, fl: bool) -> petrel_store::Result<bool> {
        self.0.set_flags(f, u, s, fl)
    }
    fn envelope(&self, f: &FolderRef, u: u32) -> petrel_store::Result<Option<Envelope>> {
        self.0.envelope(f, u)
    }
    fn page(&self, f: &FolderRef, o: u32, l: u32) -> petrel_store::Result<Page> {
        self.0.page(f, o, l)
    }
    fn order_keys(&self, f: &FolderRef) -> petrel_store::Result<Vec<(i64, u32)>> {
        self.0.order_keys(f)
    }
    fn uids(&self, f: &FolderRef) -> petrel_store::Result<Vec<u32>> {
        self.0.uids(f)
    }
    fn drop_folder(&self, f: &FolderRef) -> petrel_store::Result<()> {
        self.0.drop_folder(f)
    }
    fn set_body(&self, f: &FolderRef, u: u32, raw: &[u8]) -> petrel_store::Result<()> {
        self.0.set_body(f, u, raw)
    }
    fn body(&self, f: &FolderRef, u: u32) -> petrel_store::Result<Option<Vec<u8>>> {
        self.0.body(f, u)
    }
    fn body_uids(&self, f: &FolderRef) -> petrel_store::Result<Vec<u32>> {
        self.0.body_uids(f)
    }
    fn set_thread_links(
        &self,
        f: &FolderRef,
        l: &[(u32, petrel_core::ThreadLinks)],
    ) -> petrel_store::Result<()> {
        self.0.set_thread_links(f, l)
    }
    fn thread_links(
        &self,
        f: &FolderRef,
    ) -> petrel_store::Result<Vec<(u32, petrel_core::ThreadLinks)>> {
        self.0.thread_links(f)
    }
    fn cached_folders(&self, a: &AccountId) -> petrel_store::Result<Vec<String>> {
        self.0.cached_folders(a)
    }
    fn set_folder_list(
        &self,
        a: &AccountId,
        l: &[petrel_core::Folder],
    ) -> petrel_store::Result<()> {
        self.0.set_folder_list(a, l)
    }
    fn folder_list(&self, a: &AccountId) -> petrel_store::Result<Option<Vec<petrel_core::Folder>>> {
        self.0.folder_list(a)
    }
    fn drop_account(&self, a: &AccountId) -> petrel_store::Result<()> {
        self.0.drop_account(a)
    }
    fn changes(
        &self,
        after: u64,
        limit: usize,
    ) -> petrel_store::Result<Vec<(u64, petrel_store::CacheChange)>> {
        self.0.changes(after, limit)
    }
    fn forget_changes(&self, through: u64) -> petrel_store::Result<()> {
        self.0.forget_changes(through)
    }
    fn journal_id(&self) -> u64 {
        self.0.journal_id()
    }
    fn last_change(&self) -> petrel_store::Result<u64> {
        self.0.last_change()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_cache_ends_the_sync_with_a_cache_error() {
    let h = Harness::start().unwrap();
    let mails: Vec<Vec<u8>> = (0..1_200)
        .map(|i| format!("Subject: m{i}\r\n\r\nx\r\n").into_bytes())
        .collect();
    h.seed("alice", "INBOX", &mails, false).unwrap();
    let alice = h.user("alice");
    let server = ServerSettings {
        host: "localhost".into(),
        port: h.ports.imaps,
        security: Security::Tls,
        username: alice.login.clone(),
        pinned_cert_sha256: None,
    };
    let trust = TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap();
    let mut session = ImapSession::login(&server, &alice.password, &trust)
        .await
        .unwrap();
    let folder = FolderRef::new(&AccountId("a".into()), "INBOX");
    let cache: Arc<dyn MailCache> = Arc::new(FullDisk(MemoryCache::new()));
    let result = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        session.sync_folder(cache.clone(), &folder, |_, _| {}),
    )
    .await
    .expect("sync must not hang when the cache writer fails");
    assert!(matches!(result, Err(SyncError::Cache(_))), "got {result:?}");
    assert_eq!(
        cache.folder_state(&folder).unwrap().unwrap().total,
        0,
        "nothing counted"
    );
    // The session is still usable afterwards (the failure was local, not the connection's).
    assert!(session.list_folders().await.is_ok());
}
