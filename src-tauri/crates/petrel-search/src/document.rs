//! The index's schema, its tokenizer, and a message turned into a document.

use petrel_core::{Envelope, ThreadLinks};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions, STORED,
    STRING,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};
use tantivy::{Index, TantivyDocument};

pub(crate) const TOKENIZER: &str = "mail";
/// Characters of body text kept for snippets (the rest is indexed, not stored).
const PREVIEW_CHARS: usize = 2_000;

/// Values of the `marks` field: flags and facts a query filters on.
pub(crate) const MARK_SEEN: &str = "seen";
pub(crate) const MARK_FLAGGED: &str = "flagged";
pub(crate) const MARK_ANSWERED: &str = "answered";
pub(crate) const MARK_ATTACHMENT: &str = "attachment";
/// The body was indexed (not just the list row).
pub(crate) const MARK_WHOLE: &str = "whole";

#[derive(Clone, Copy)]
pub(crate) struct Fields {
    /// account, folder, UID: the one document of a message in a folder.
    pub key: Field,
    pub folder_key: Field,
    pub account: Field,
    pub folder: Field,
    pub uid: Field,
    pub from: Field,
    pub to: Field,
    pub cc: Field,
    pub subject: Field,
    pub body: Field,
    pub attachment: Field,
    /// The start of the body, stored for snippets only.
    pub preview: Field,
    pub date: Field,
    pub size: Field,
    pub marks: Field,
    pub message_id: Field,
}

impl Fields {
    /// Where a bare word is looked for.
    pub fn text(&self) -> [Field; 6] {
        [
            self.from,
            self.to,
            self.cc,
            self.subject,
            self.body,
            self.attachment,
        ]
    }
}

pub(crate) fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextFieldIndexing::default()
        .set_tokenizer(TOKENIZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let text = TextOptions::default().set_indexing_options(words.clone());
    let stored_text = TextOptions::default()
        .set_indexing_options(words)
        .set_stored();
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        folder_key: b.add_text_field("folder_key", STRING),
        account: b.add_text_field("account", STRING | STORED),
        folder: b.add_text_field("folder", STRING | STORED),
        uid: b.add_u64_field("uid", STORED),
        from: b.add_text_field("from", text.clone()),
        to: b.add_text_field("to", text.clone()),
        cc: b.add_text_field("cc", text.clone()),
        subject: b.add_text_field("subject", stored_text),
        body: b.add_text_field("body", text.clone()),
        attachment: b.add_text_field("attachment", text),
        preview: b.add_text_field("preview", STORED),
        date: b.add_i64_field(
            "date",
            NumericOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored(),
        ),
        size: b.add_u64_field("size", NumericOptions::default().set_indexed()),
        marks: b.add_text_field("marks", STRING | STORED),
        message_id: b.add_text_field("message_id", STRING | STORED),
    };
    (b.build(), fields)
}

/// Words as people type them: split at anything not a letter or digit, lower case, accents
/// folded ("Réunion" is found by "reunion"), absurdly long tokens (base64) dropped.
pub(crate) fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(48))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

pub(crate) fn register_tokenizer(index: &Index) {
    index.tokenizers().register(TOKENIZER, analyzer());
}

pub(crate) fn key(account: &str, folder: &str, uid: u32) -> String {
    format!("{account}\u{1}{folder}\u{1}{uid}")
}

pub(crate) fn folder_key(account: &str, folder: &str) -> String {
    format!("{account}\u{1}{folder}")
}

/// A message as the index takes it: where it is, its list row, its threading headers if
/// known, and its bytes when they are on this computer.
pub struct Message<'a> {
    pub account: &'a str,
    pub folder: &'a str,
    pub row: &'a Envelope,
    pub links: Option<&'a ThreadLinks>,
    pub raw: Option<&'a [u8]>,
    pub uid: u32,
}

pub(crate) fn build(f: &Fields, m: &Message<'_>) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.key, key(m.account, m.folder, m.uid));
    doc.add_text(f.folder_key, folder_key(m.account, m.folder));
    doc.add_text(f.account, m.account);
    doc.add_text(f.folder, m.folder);
    doc.add_u64(f.uid, u64::from(m.uid));
    let row = m.row;
    if let Some(date) = row.date {
        doc.add_i64(f.date, date);
    }
    doc.add_u64(f.size, row.size);
    for (on, mark) in [
        (row.seen, MARK_SEEN),
        (row.flagged, MARK_FLAGGED),
        (row.answered, MARK_ANSWERED),
        (row.has_attachment, MARK_ATTACHMENT),
    ] {
        if on {
            doc.add_text(f.marks, mark);
        }
    }
    // The list row's words are always there; the whole message adds the rest.
    doc.add_text(f.subject, &row.subject);
    match m.raw {
        Some(raw) => {
            let text = petrel_render::search_text(raw);
            doc.add_text(f.marks, MARK_WHOLE);
            doc.add_text(
                f.from,
                if text.from.is_empty() {
                    &row.from
                } else {
                    &text.from
                },
            );
            doc.add_text(f.to, &text.to);
            doc.add_text(f.cc, &text.cc);
            doc.add_text(f.body, &text.body);
            let preview: String = text.body.chars().take(PREVIEW_CHARS).collect();
            doc.add_text(f.preview, preview);
            for name in &text.attachments {
                doc.add_text(f.attachment, name);
            }
            if let Some(id) = text.message_id {
                doc.add_text(f.message_id, id);
            }
        }
        None => {
            doc.add_text(f.from, &row.from);
            if let Some(id) = m.links.and_then(|l| l.message_id.as_deref()) {
                doc.add_text(f.message_id, id);
            }
        }
    }
    doc
}
