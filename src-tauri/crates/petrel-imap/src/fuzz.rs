//! Property-based tests (fixed seed; see `petrel_core::fuzz`) of the glue between the IMAP
//! library and Petrel: pre-TLS lines, status lines, folder names and their roles, VANISHED
//! ranges and UID sets — from any server, never a panic, and the sets stay exact.

use crate::list_folders::folder;
use crate::raw_command::quoted;
use crate::starttls::{advertises_starttls, status_is_ok};
use crate::sync_folder::{in_ranges, uid_set};
use async_imap::types::NameAttribute;
use proptest::prelude::*;

fn attribute() -> impl Strategy<Value = NameAttribute<'static>> {
    prop_oneof![
        Just(NameAttribute::NoSelect),
        Just(NameAttribute::NoInferiors),
        Just(NameAttribute::Sent),
        Just(NameAttribute::Trash),
        Just(NameAttribute::Drafts),
        Just(NameAttribute::Junk),
        Just(NameAttribute::Archive),
        Just(NameAttribute::All),
        Just(NameAttribute::Flagged),
        ".{0,20}".prop_map(|e| NameAttribute::Extension(e.into())),
    ]
}

proptest! {
    #![proptest_config(petrel_core::fuzz::config())]

    #[test]
    fn lines_before_tls_of_any_shape(line in ".{0,300}", tag in "[A-Za-z0-9]{0,8}") {
        let _ = advertises_starttls(&line);
        let _ = status_is_ok(&line, &tag);
        let _ = crate::starttls::check_greeting(&line);
    }

    #[test]
    fn folder_names_of_any_shape(
        path in ".{0,80}",
        delimiter in prop_oneof![Just(None), Just(Some("/".to_string())), Just(Some(".".to_string())), ".{0,3}".prop_map(Some)],
        attributes in proptest::collection::vec(attribute(), 0..4),
    ) {
        let f = folder(&path, delimiter.as_deref(), &attributes);
        prop_assert!(!f.name.is_empty() || path.is_empty());
        match quoted(&path) {
            Ok(q) => prop_assert!(!q.contains(['\r', '\n'])),
            Err(_) => prop_assert!(path.contains(['\r', '\n', '\0'])),
        }
    }

    #[test]
    fn vanished_ranges_match_exactly_without_expanding(
        uids in proptest::collection::vec(any::<u32>(), 0..50),
        ranges in proptest::collection::vec((any::<u32>(), any::<u32>()), 0..10),
    ) {
        let ranges: Vec<std::ops::RangeInclusive<u32>> = ranges.into_iter().map(|(a, b)| a..=b).collect();
        let got = in_ranges(&uids, &ranges);
        let want: Vec<u32> = uids
            .iter()
            .copied()
            .filter(|u| ranges.iter().any(|r| (*r.start().min(r.end())..=*r.start().max(r.end())).contains(u)))
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn uid_sets_name_exactly_the_uids(uids in proptest::collection::vec(prop_oneof![any::<u32>(), 0u32..64, Just(u32::MAX)], 0..60)) {
        let set = uid_set(&uids);
        let mut named = Vec::new();
        for part in set.split(',').filter(|p| !p.is_empty()) {
            match part.split_once(':') {
                Some((a, b)) => {
                    let (a, b): (u32, u32) = (a.parse().unwrap(), b.parse().unwrap());
                    prop_assert!(a < b);
                    named.extend((a as u64..=b as u64).take(100).map(|x| x as u32));
                    prop_assert!(b - a < 100, "a range only spans given UIDs here");
                }
                None => named.push(part.parse().unwrap()),
            }
        }
        let mut want = uids.clone();
        want.sort_unstable();
        want.dedup();
        prop_assert_eq!(named, want);
    }
}

#[test]
fn report() {
    for p in [
        "IMAP lines before TLS",
        "folder names",
        "VANISHED ranges",
        "UID sets",
    ] {
        petrel_core::fuzz::report(p);
    }
}
