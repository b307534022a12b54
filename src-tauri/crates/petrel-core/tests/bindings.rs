//! The TypeScript types in `ui/src/bindings/` are generated from the Rust DTOs. This test
//! fails when they differ, so the UI can never compile against a stale contract.
//! Regenerate with: `UPDATE_BINDINGS=1 cargo test -p petrel-core --test bindings`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_core::*;
use std::path::PathBuf;
use ts_rs::TS;

fn bindings_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../ui/src/bindings")
}

fn check<T: TS + 'static>(stale: &mut Vec<String>) {
    let name = format!("{}.ts", T::name());
    let generated = T::export_to_string().expect("ts-rs renders the type");
    let path = bindings_dir().join(&name);
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::create_dir_all(bindings_dir()).expect("create ui/src/bindings");
        std::fs::write(&path, &generated).expect("write binding");
        return;
    }
    match std::fs::read_to_string(&path) {
        Ok(committed) if committed == generated => {}
        _ => stale.push(name),
    }
}

#[test]
fn committed_typescript_bindings_match_the_rust_types() {
    let mut stale = Vec::new();
    check::<AccountId>(&mut stale);
    check::<Security>(&mut stale);
    check::<ServerSettings>(&mut stale);
    check::<AccountSettings>(&mut stale);
    check::<NewAccount>(&mut stale);
    check::<Folder>(&mut stale);
    check::<FolderRole>(&mut stale);
    check::<Envelope>(&mut stale);
    check::<MessageView>(&mut stale);
    check::<EnvelopePage>(&mut stale);
    check::<ActionOutcome>(&mut stale);
    check::<ConnectionState>(&mut stale);
    check::<AccountStatus>(&mut stale);
    check::<Quota>(&mut stale);
    check::<SyncProgress>(&mut stale);
    check::<SyncOptions>(&mut stale);
    check::<Attachment>(&mut stale);
    check::<petrel_core::OpenRisk>(&mut stale);
    check::<UnifiedView>(&mut stale);
    check::<UnifiedRow>(&mut stale);
    check::<UnifiedPage>(&mut stale);
    check::<Composition>(&mut stale);
    check::<ComposeKind>(&mut stale);
    check::<SendReport>(&mut stale);
    check::<IncomingProtocol>(&mut stale);
    check::<LeaveOnServer>(&mut stale);
    check::<Pop3Options>(&mut stale);
    check::<ThreadPage>(&mut stale);
    check::<ThreadRow>(&mut stale);
    check::<SortKey>(&mut stale);
    check::<ListQuery>(&mut stale);
    check::<OutgoingAttachment>(&mut stale);
    check::<MessageRef>(&mut stale);
    check::<QueuedMessage>(&mut stale);
    check::<RowExtra>(&mut stale);
    check::<AddressSuggestion>(&mut stale);
    check::<SendingOptions>(&mut stale);
    check::<Identity>(&mut stale);
    check::<OutboxState>(&mut stale);
    check::<SettingsSource>(&mut stale);
    check::<Discovery>(&mut stale);
    check::<ProviderNotes>(&mut stale);
    check::<ServerEvidence>(&mut stale);
    check::<DoctorLine>(&mut stale);
    check::<SetupProgress>(&mut stale);
    check::<StageState>(&mut stale);
    check::<HostName>(&mut stale);
    check::<SignIn>(&mut stale);
    check::<OAuthProvider>(&mut stale);
    check::<SignedIn>(&mut stale);
    check::<AdvisorAnswers>(&mut stale);
    check::<Advice>(&mut stale);
    check::<FolderChange>(&mut stale);
    check::<FolderRefresh>(&mut stale);
    check::<PageRequest>(&mut stale);
    check::<ThreadsRequest>(&mut stale);
    check::<FlagsRequest>(&mut stale);
    check::<AttachmentRef>(&mut stale);
    check::<IncomingUpdate>(&mut stale);
    check::<UiEvent>(&mut stale);
    check::<ErrorCode>(&mut stale);
    check::<CertificateDetails>(&mut stale);
    check::<IpcError>(&mut stale);
    check::<SearchResults>(&mut stale);
    check::<ConversationSpot>(&mut stale);
    check::<MessageFile>(&mut stale);
    check::<DesktopOptions>(&mut stale);
    check::<ThunderbirdProfile>(&mut stale);
    check::<ProfileContents>(&mut stale);
    check::<FoundAccount>(&mut stale);
    check::<FoundStore>(&mut stale);
    check::<ImportSource>(&mut stale);
    check::<ImportRequest>(&mut stale);
    check::<ImportProgress>(&mut stale);
    check::<ImportReport>(&mut stale);
    check::<MessageAt>(&mut stale);
    check::<SearchOrder>(&mut stale);
    check::<SearchHit>(&mut stale);
    check::<Marked>(&mut stale);
    check::<ServerSearch>(&mut stale);
    check::<IndexProgress>(&mut stale);
    assert!(
        stale.is_empty(),
        "ui/src/bindings is stale for {stale:?}; run UPDATE_BINDINGS=1 cargo test -p petrel-core --test bindings and commit the result"
    );
}

/// The search box completes the operators the parser knows, no more, no fewer.
#[test]
fn the_search_box_offers_every_operator_of_the_parser() {
    let ts = std::fs::read_to_string(bindings_dir().join("../lib/search.ts")).unwrap();
    let offered: Vec<&str> = ts
        .split("op: \"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    for op in petrel_core::query::OPERATORS {
        assert!(
            offered.iter().any(|o| o.starts_with(op)),
            "{op} missing from ui/src/lib/search.ts"
        );
    }
    for o in &offered {
        assert!(
            petrel_core::query::OPERATORS
                .iter()
                .any(|op| o.starts_with(op)),
            "{o} in ui/src/lib/search.ts is not an operator of petrel_core::query"
        );
        // A complete operator (is:unread, has:attachment) parses as it is offered.
        if !o.ends_with(':') {
            assert!(petrel_core::query::parse(o).is_ok(), "{o}");
        }
    }
}
