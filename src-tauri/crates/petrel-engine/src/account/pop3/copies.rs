//! Copies of a message in a local folder, found by Message-ID (drafts replaced by their
//! next save, Sent copies not filed twice).

/// Files of a local Maildir (Drafts, Sent) holding the message with this Message-ID. Only
/// the header block is read (mail text in any language follows it).
pub(super) fn local_copies(
    drafts: &petrel_maildir::Maildir,
    message_id: &str,
) -> Vec<std::path::PathBuf> {
    drafts
        .messages()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| {
            std::fs::read(p).is_ok_and(|raw| {
                let head = &raw[..raw.len().min(16 * 1024)];
                header_message_id(head).as_deref() == Some(message_id)
            })
        })
        .collect()
}

/// The Message-ID of a message's header block (without angle brackets), folded or not.
/// Compared as bytes: a header line may hold any text, so no string is cut at a byte index.
pub(crate) fn header_message_id(raw: &[u8]) -> Option<String> {
    const NAME: &[u8] = b"message-id:";
    let mut lines = raw
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    while let Some(line) = lines.next() {
        if line.is_empty() {
            return None;
        }
        let Some(name) = line.get(..NAME.len()) else {
            continue;
        };
        if !name.eq_ignore_ascii_case(NAME) {
            continue;
        }
        let mut value = String::from_utf8_lossy(&line[NAME.len()..])
            .trim()
            .to_string();
        if value.is_empty() {
            // Folded onto the next line (RFC 5322 §2.2.3).
            value = lines
                .next()
                .map(|l| String::from_utf8_lossy(l).trim().to_string())
                .unwrap_or_default();
        }
        let id = value.trim().trim_start_matches('<').trim_end_matches('>');
        return (!id.is_empty()).then(|| id.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Review M6: a header or body line whose 11th byte falls inside a character
    /// ("Viele Grüße", Cyrillic, CJK) must not panic the draft save.
    #[test]
    fn local_copies_read_headers_of_any_language_without_panicking() {
        let dir = tempfile::tempdir().unwrap();
        let md = petrel_maildir::Maildir::open(dir.path()).unwrap();
        let draft = "Subject: Viele Grüße\r\nX-Note: Привет, как дела\r\nMessage-ID: <d1@x>\r\n\r\nViele Grüße\r\n日本語のテキストです\r\nMessage-ID: <not-a-header@x>\r\n";
        let folded = "Subject: x\nMessage-ID:\n <d2@x>\n\nГрüße\n";
        md.deliver_batch(&[draft.as_bytes().to_vec(), folded.as_bytes().to_vec()])
            .unwrap();
        assert_eq!(local_copies(&md, "d1@x").len(), 1);
        assert_eq!(local_copies(&md, "d2@x").len(), 1, "a folded Message-ID");
        assert!(
            local_copies(&md, "not-a-header@x").is_empty(),
            "the body is not read"
        );
        assert_eq!(header_message_id("Viele Grüße\r\n".as_bytes()), None);
    }

    mod fuzz {
        use super::super::header_message_id;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(petrel_core::fuzz::config())]

            /// Draft read-back: any bytes in local Drafts/Sent give an id or none, never a
            /// panic (review M6), and the id has no brackets or line breaks.
            #[test]
            fn message_ids_of_any_header_block(raw in proptest::collection::vec(any::<u8>(), 0..600), text in "\\PC{0,200}") {
                for bytes in [raw.as_slice(), text.as_bytes()] {
                    if let Some(id) = header_message_id(bytes) {
                        prop_assert!(!id.contains(['\r', '\n']) && !id.starts_with('<'));
                    }
                }
                let _ = crate::mailto_composition(&text);
            }
        }
    }
}
