//! Property-based tests (proptest, fixed seed; see `petrel_core::fuzz`): mail from anywhere
//! — random bytes, and MIME built from random parts, headers, charsets and encodings —
//! never panics the reader view, the list row, threading or attachment handling, and what
//! comes out keeps its promises (file names safe to write, ids without spaces).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use proptest::prelude::*;

/// Header values with the characters mail breaks on: CR/LF, encoded-word markers, NUL,
/// multibyte text, and very long runs.
fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,60}",
        "\\PC{0,40}",
        "=\\?[a-zA-Z0-9_-]{0,12}\\?[BbQq]\\?[A-Za-z0-9+/=_%-]{0,40}\\?=",
        "(<[a-z0-9.@-]{0,20}> ?){0,5}",
        ".{0,200}",
    ]
}

fn charset() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("utf-8".to_string()),
        Just("iso-2022-jp".to_string()),
        Just("shift_jis".to_string()),
        Just("gb18030".to_string()),
        Just("utf-7".to_string()),
        Just("us-ascii".to_string()),
        "[a-z0-9-]{0,16}",
    ]
}

fn part() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just("text/plain"), Just("text/html"), Just("application/octet-stream"), Just("image/png"), Just("message/rfc822")],
        charset(),
        prop_oneof![Just("7bit"), Just("8bit"), Just("base64"), Just("quoted-printable"), Just("x-unknown")],
        header_value(),
        proptest::collection::vec(any::<u8>(), 0..400),
    )
        .prop_map(|(ctype, charset, cte, name, body)| {
            let mut p = format!(
                "Content-Type: {ctype}; charset={charset}; name=\"{name}\"\r\nContent-Transfer-Encoding: {cte}\r\nContent-Disposition: attachment; filename*=utf-8''{name}\r\nContent-ID: <{name}>\r\n\r\n"
            )
            .into_bytes();
            p.extend_from_slice(&body);
            p
        })
}

fn message() -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec(("[A-Za-z-]{1,20}", header_value()), 0..12),
        "[A-Za-z0-9'()+_,./:=?-]{0,30}",
        proptest::collection::vec(part(), 0..5),
        any::<bool>(),
    )
        .prop_map(|(headers, boundary, parts, crlf)| {
            let mut m = Vec::new();
            for (name, value) in headers {
                m.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
            }
            m.extend_from_slice(
                format!("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n").as_bytes(),
            );
            for p in parts {
                m.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
                m.extend_from_slice(&p);
                m.extend_from_slice(b"\r\n");
            }
            m.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
            if crlf {
                m
            } else {
                m.into_iter().filter(|&b| b != b'\r').collect()
            }
        })
}

fn check_view(raw: &[u8]) {
    let view = petrel_render::message_view(7, raw);
    for a in &view.attachments {
        check_file_name(&a.name);
        let _ = petrel_render::attachment(raw, a.index);
    }
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(raw.len());
    let _ = petrel_render::list_headers(&raw[..end]);
    let links = petrel_render::thread_links(&raw[..end]);
    for id in links.parents.iter().chain(links.message_id.iter()) {
        assert!(!id.contains(char::is_whitespace), "{id:?}");
    }
}

fn check_file_name(name: &str) {
    assert!(!name.is_empty());
    assert!(name.len() <= 240, "{} bytes", name.len());
    assert!(
        !name.contains(['/', '\\', ':', '*', '?', '"', '<', '>', '|']),
        "{name:?}"
    );
    assert!(!name.chars().any(|c| c.is_control()), "{name:?}");
    assert!(
        !name.ends_with(['.', ' ']) && !name.starts_with('.'),
        "{name:?}"
    );
    assert!(
        !name.chars().any(
            |c| matches!(c as u32, 0x202A..=0x202E | 0x2066..=0x2069 | 0x200B..=0x200F | 0xFEFF)
        ),
        "{name:?}"
    );
}

proptest! {
    #![proptest_config(petrel_core::fuzz::config())]

    #[test]
    fn random_bytes_never_panic_the_reader(raw in proptest::collection::vec(any::<u8>(), 0..2000)) {
        check_view(&raw);
    }

    #[test]
    fn random_mime_never_panics_the_reader(raw in message()) {
        check_view(&raw);
    }

    #[test]
    fn attachment_names_are_safe_to_write_and_show(name in "\\PC{0,300}|.{0,300}") {
        let safe = petrel_render::safe_file_name(&name);
        check_file_name(&safe);
        prop_assert_eq!(petrel_render::safe_file_name(&safe), safe.clone(), "cleaning twice changes nothing");
        let _ = petrel_render::open_risk(&name, &name, name.as_bytes());
        let _ = petrel_render::type_label(&name, &name);
    }

    #[test]
    fn html_of_any_shape_is_sanitized_without_panic(html in ".{0,600}") {
        let _ = petrel_render::sanitize(&html, Default::default());
    }
}

#[test]
fn report() {
    for p in [
        "reader: random bytes",
        "reader: random MIME",
        "attachment names",
        "HTML sanitizer",
    ] {
        petrel_core::fuzz::report(p);
    }
}
