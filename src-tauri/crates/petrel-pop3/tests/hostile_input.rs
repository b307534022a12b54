//! Property-based tests (fixed seed; see `petrel_core::fuzz`) of what Petrel parses from a
//! POP3 server and from its own stamps: response codes, CAPA lines, and the
//! `X-Petrel-POP3` stamp that lets the download record be rebuilt from the Maildir.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use petrel_pop3::ledger::{parse_stamp, stamp_line};
use petrel_pop3::Capabilities;
use proptest::prelude::*;

proptest! {
    #![proptest_config(petrel_core::fuzz::config())]

    #[test]
    fn replies_and_capabilities_of_any_shape(text in ".{0,200}", lines in proptest::collection::vec(".{0,60}", 0..20)) {
        let _ = petrel_pop3::response_code(&text);
        let caps = Capabilities { lines };
        let _ = caps.sasl();
        let _ = caps.expire_days();
        let _ = caps.login_delay();
        let _ = caps.has("UIDL");
    }

    #[test]
    fn stamps_read_back_what_was_written(
        account in "[A-Za-z0-9-]{1,20}",
        uidl in "[!-~]{1,70}",
        fetched in 0i64..4_000_000_000,
        size in 0u64..(1 << 40),
        partial in any::<bool>(),
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        let mut raw = stamp_line(&account, &uidl, fetched, size, partial).into_bytes();
        raw.extend_from_slice(b"Subject: x\r\n\r\n");
        raw.extend_from_slice(&rest);
        let stamp = parse_stamp(&raw).expect("a stamp Petrel wrote reads back");
        prop_assert_eq!(&stamp.account, &account);
        prop_assert_eq!(&stamp.uidl, &uidl);
        prop_assert_eq!((stamp.fetched_at, stamp.size, stamp.partial), (fetched, size, partial));
    }

    #[test]
    fn stamps_of_any_shape_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..800)) {
        let _ = parse_stamp(&raw);
        let _ = petrel_pop3::ledger::fingerprint(&raw, raw.len() as u64);
    }
}

#[test]
fn report() {
    for p in [
        "POP3 replies and CAPA",
        "stamps read back",
        "stamps of any shape",
        "POP3 wire lines (unit)",
    ] {
        petrel_core::fuzz::report(p);
    }
}
