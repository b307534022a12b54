//! Property-based tests (fixed seed; see `petrel_core::fuzz`): drafts read back, replies
//! and forwards built from, and `mailto:` links parsed from anything never panic, and keep
//! their promises (no header can be injected from a link; prefixes come off once).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use proptest::prelude::*;

fn mail() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..1500),
        (
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("From"),
                        Just("To"),
                        Just("Cc"),
                        Just("Bcc"),
                        Just("Subject"),
                        Just("Message-ID"),
                        Just("In-Reply-To"),
                        Just("References"),
                        Just("Reply-To"),
                        Just("X-Petrel-Answers"),
                        Just("Content-Type"),
                        Just("Content-Transfer-Encoding"),
                        Just("Date")
                    ],
                    ".{0,120}"
                ),
                0..14
            ),
            ".{0,400}",
        )
            .prop_map(|(headers, body)| {
                let mut m = String::new();
                for (n, v) in headers {
                    m.push_str(&format!("{n}: {v}\r\n"));
                }
                m.push_str("\r\n");
                m.push_str(&body);
                m.into_bytes()
            }),
    ]
}

proptest! {
    #![proptest_config(petrel_core::fuzz::config())]

    #[test]
    fn drafts_and_originals_of_any_shape_read_back(raw in mail()) {
        let draft = petrel_compose::Draft::parse(&raw);
        if let Some(html) = &draft.html {
            prop_assert!(!html.to_ascii_lowercase().contains("<script"), "{html}");
        }
        let original = petrel_compose::Original::parse(&raw);
        let mine = ["me@example.org"];
        let _ = petrel_compose::reply(&original, petrel_compose::ReplyTo::All, &mine);
        let _ = petrel_compose::forward(&original);
        let _ = petrel_compose::quote(&original);
        let _ = petrel_compose::files(&raw);
    }

    #[test]
    fn subjects_lose_their_prefixes_once(subject in ".{0,80}") {
        let base = petrel_compose::base_subject(&subject);
        prop_assert_eq!(petrel_compose::base_subject(&base), base.clone());
        let _ = petrel_compose::prefixed("Re: ", &subject);
    }

    #[test]
    fn mailto_links_set_only_what_a_person_sees(uri in "(mailto:|MAILTO:|mail)[ -~\\PC]{0,200}") {
        if let Some(m) = petrel_compose::mailto::parse(&uri) {
            for field in m.to.iter().chain(&m.cc).chain(&m.bcc).chain(std::iter::once(&m.subject)) {
                prop_assert!(!field.contains(['\r', '\n']), "{field:?}");
            }
        }
    }
}

#[test]
fn report() {
    for p in ["drafts and originals", "subject prefixes", "mailto links"] {
        petrel_core::fuzz::report(p);
    }
}
