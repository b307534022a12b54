//! Matched words marked in a subject and a snippet of the body, as plain pieces of text.

use crate::document::Fields;
use petrel_core::Marked;
use tantivy::snippet::{Snippet, SnippetGenerator};

/// Characters of body shown around the matches.
const SNIPPET_CHARS: usize = 160;

pub(crate) struct Marks {
    subject: SnippetGenerator,
    body: SnippetGenerator,
}

impl Marks {
    pub fn new(
        searcher: &tantivy::Searcher,
        query: &dyn tantivy::query::Query,
        f: &Fields,
    ) -> tantivy::Result<Marks> {
        let mut subject = SnippetGenerator::create(searcher, query, f.subject)?;
        // The whole subject, however long: it is the result's title.
        subject.set_max_num_chars(10_000);
        let mut body = SnippetGenerator::create(searcher, query, f.body)?;
        body.set_max_num_chars(SNIPPET_CHARS);
        Ok(Marks { subject, body })
    }

    pub fn subject(&self, subject: &str) -> Vec<Marked> {
        let snippet = self.subject.snippet(subject);
        if snippet.highlighted().is_empty() {
            return plain(subject);
        }
        // The generator may trim around the fragment; the title is shown whole.
        let start = subject.find(snippet.fragment()).unwrap_or(0);
        let end = start + snippet.fragment().len();
        let mut pieces = plain(subject.get(..start).unwrap_or_default());
        pieces.extend(pieces_of(&snippet));
        pieces.extend(plain(subject.get(end..).unwrap_or_default()));
        merge(pieces)
    }

    pub fn body(&self, text: &str) -> Vec<Marked> {
        let snippet = self.body.snippet(text);
        if snippet.fragment().is_empty() {
            // No match in the stored start: the first words instead.
            let start: String = text.chars().take(SNIPPET_CHARS).collect();
            return plain(squash(&start).trim());
        }
        merge(
            pieces_of(&snippet)
                .into_iter()
                .map(|m| Marked {
                    text: squash(&m.text),
                    matched: m.matched,
                })
                .collect(),
        )
    }
}

/// Runs of white space (line breaks of the body) as one space.
fn squash(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

fn plain(text: &str) -> Vec<Marked> {
    if text.is_empty() {
        return vec![];
    }
    vec![Marked {
        text: text.to_string(),
        matched: false,
    }]
}

/// The fragment cut at the highlighted ranges (byte ranges of whole tokens, so at
/// character boundaries; `get` keeps a bad range from panicking all the same).
fn pieces_of(snippet: &Snippet) -> Vec<Marked> {
    let text = snippet.fragment();
    let mut out = Vec::new();
    let mut at = 0;
    for range in snippet.highlighted() {
        if range.start < at {
            continue;
        }
        if let (Some(before), Some(hit)) = (text.get(at..range.start), text.get(range.clone())) {
            out.extend(plain(before));
            out.push(Marked {
                text: hit.to_string(),
                matched: true,
            });
            at = range.end;
        }
    }
    out.extend(plain(text.get(at..).unwrap_or_default()));
    out
}

/// Joins neighbours of the same kind.
fn merge(pieces: Vec<Marked>) -> Vec<Marked> {
    let mut out: Vec<Marked> = Vec::with_capacity(pieces.len());
    for p in pieces.into_iter().filter(|p| !p.text.is_empty()) {
        match out.last_mut() {
            Some(last) if last.matched == p.matched => last.text.push_str(&p.text),
            _ => out.push(p),
        }
    }
    out
}
