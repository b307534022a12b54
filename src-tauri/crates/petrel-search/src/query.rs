//! The search language's tree (petrel_core::query) as a tantivy query.

use crate::document::{self, Fields};
use crate::{Result, SearchError};
use petrel_core::query::{Day, Flag, Query, QueryError, Term as Cond};
use std::ops::Bound;
use tantivy::query::{
    AllQuery, BooleanQuery, Occur, PhraseQuery, Query as TQuery, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TokenStream;
use tantivy::Term;

/// What `in:` and `account:` name: the caller knows the accounts and their folders.
pub trait Places {
    /// The (account, folder path) pairs a folder name means (by name, path or role:
    /// `in:sent` is each account's Sent folder); empty when none.
    fn folders(&self, name: &str) -> Vec<(String, String)>;
    /// The account ids a name means (its address, name or domain); empty when none.
    fn accounts(&self, name: &str) -> Vec<String>;
}

const SECONDS_PER_DAY: i64 = 86_400;

pub(crate) fn build(
    f: &Fields,
    query: &Query,
    places: &dyn Places,
    today: Day,
) -> Result<Box<dyn TQuery>> {
    Builder { f, places, today }.query(query)
}

struct Builder<'a> {
    f: &'a Fields,
    places: &'a dyn Places,
    today: Day,
}

impl Builder<'_> {
    fn query(&self, q: &Query) -> Result<Box<dyn TQuery>> {
        Ok(match q {
            Query::Term(t) => self.term(t)?,
            Query::Not(inner) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, Box::new(AllQuery)),
                (Occur::MustNot, self.query(inner)?),
            ])),
            Query::All(parts) => Box::new(BooleanQuery::new(
                parts
                    .iter()
                    .map(|p| Ok((Occur::Must, self.query(p)?)))
                    .collect::<Result<_>>()?,
            )),
            Query::Any(parts) => Box::new(BooleanQuery::new(
                parts
                    .iter()
                    .map(|p| Ok((Occur::Should, self.query(p)?)))
                    .collect::<Result<_>>()?,
            )),
        })
    }

    fn term(&self, t: &Cond) -> Result<Box<dyn TQuery>> {
        let f = self.f;
        Ok(match t {
            Cond::Word(w) | Cond::Phrase(w) => any_field(&f.text(), w),
            Cond::From(v) => words_in(f.from, v),
            Cond::To(v) => words_in(f.to, v),
            Cond::Cc(v) => words_in(f.cc, v),
            Cond::Subject(v) => words_in(f.subject, v),
            Cond::Filename(v) => words_in(f.attachment, v),
            Cond::HasAttachment => mark(f, document::MARK_ATTACHMENT),
            Cond::Is(Flag::Read) => mark(f, document::MARK_SEEN),
            Cond::Is(Flag::Unread) => not(mark(f, document::MARK_SEEN)),
            Cond::Is(Flag::Flagged) => mark(f, document::MARK_FLAGGED),
            Cond::Is(Flag::Answered) => mark(f, document::MARK_ANSWERED),
            Cond::In(name) => {
                let found = self.places.folders(name);
                if found.is_empty() {
                    return Err(unknown(format!("No folder is called “{name}”.")));
                }
                either(
                    found
                        .iter()
                        .map(|(a, p)| exact(f.folder_key, &document::folder_key(a, p)))
                        .collect(),
                )
            }
            Cond::Account(name) => {
                let found = self.places.accounts(name);
                if found.is_empty() {
                    return Err(unknown(format!("No account is called “{name}”.")));
                }
                either(found.iter().map(|a| exact(f.account, a)).collect())
            }
            Cond::Before(d) => dates(f, Bound::Unbounded, Bound::Excluded(start_of(*d))),
            Cond::After(d) => dates(f, Bound::Included(start_of(*d)), Bound::Unbounded),
            Cond::OlderThanDays(n) => {
                dates(f, Bound::Unbounded, Bound::Excluded(self.days_ago(*n)))
            }
            Cond::NewerThanDays(n) => {
                dates(f, Bound::Included(self.days_ago(*n)), Bound::Unbounded)
            }
            Cond::LargerThan(n) => Box::new(RangeQuery::new(
                Bound::Excluded(Term::from_field_u64(f.size, *n)),
                Bound::Unbounded,
            )),
            Cond::SmallerThan(n) => Box::new(RangeQuery::new(
                Bound::Unbounded,
                Bound::Excluded(Term::from_field_u64(f.size, *n)),
            )),
        })
    }

    fn days_ago(&self, n: u32) -> i64 {
        (self.today.days_since_epoch() - i64::from(n)) * SECONDS_PER_DAY
    }
}

/// Days are UTC days, as the dates of mail are kept.
fn start_of(d: Day) -> i64 {
    d.days_since_epoch() * SECONDS_PER_DAY
}

fn unknown(message: String) -> SearchError {
    SearchError::Query(QueryError { at: 0, message })
}

fn dates(f: &Fields, lo: Bound<i64>, hi: Bound<i64>) -> Box<dyn TQuery> {
    let term = |v| Term::from_field_i64(f.date, v);
    Box::new(RangeQuery::new(lo.map(term), hi.map(term)))
}

fn exact(field: Field, value: &str) -> Box<dyn TQuery> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

fn mark(f: &Fields, value: &str) -> Box<dyn TQuery> {
    exact(f.marks, value)
}

fn not(q: Box<dyn TQuery>) -> Box<dyn TQuery> {
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, Box::new(AllQuery)),
        (Occur::MustNot, q),
    ]))
}

fn either(parts: Vec<Box<dyn TQuery>>) -> Box<dyn TQuery> {
    Box::new(BooleanQuery::new(
        parts.into_iter().map(|p| (Occur::Should, p)).collect(),
    ))
}

/// The text's tokens, as the index made them.
pub(crate) fn tokens(text: &str) -> Vec<String> {
    let mut analyzer = document::analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut out = Vec::new();
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

/// Words in one field: one word is a term, several (a phrase, an address) must stand
/// together in that order.
fn words_in(field: Field, text: &str) -> Box<dyn TQuery> {
    let words = tokens(text);
    match words.len() {
        // Only punctuation: nothing to look for, so it does not narrow the search.
        0 => Box::new(AllQuery),
        1 => Box::new(TermQuery::new(
            Term::from_field_text(field, &words[0]),
            IndexRecordOption::WithFreqs,
        )),
        _ => Box::new(PhraseQuery::new(
            words
                .iter()
                .map(|w| Term::from_field_text(field, w))
                .collect(),
        )),
    }
}

fn any_field(fields: &[Field], text: &str) -> Box<dyn TQuery> {
    if tokens(text).is_empty() {
        return Box::new(AllQuery);
    }
    either(fields.iter().map(|&f| words_in(f, text)).collect())
}
