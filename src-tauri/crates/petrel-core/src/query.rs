//! The one search language (issue 17), Gmail-style, parsed once: the same tree drives the
//! local index, IMAP SEARCH and the list's quick filter. Words, "phrases", `-word`, `OR`,
//! parentheses, and operators: `from:` `to:` `cc:` `subject:` `has:attachment` `filename:`
//! `is:unread|read|flagged|answered` `in:<folder>` `account:` `before:`/`after:` (dates)
//! `older_than:`/`newer_than:` (`7d`, `3m`, `1y`) `larger:`/`smaller:` (`5M`, `200K`).
//! Unknown operators and bad values are errors with words for the line under the box —
//! never an empty result.

/// A day, as written in queries (no time zone: the whole local day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Day {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Unread,
    Read,
    Flagged,
    Answered,
}

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A word anywhere (addresses, subject, body, attachment names).
    Word(String),
    /// Words next to each other, in this order.
    Phrase(String),
    From(String),
    To(String),
    Cc(String),
    Subject(String),
    HasAttachment,
    Filename(String),
    Is(Flag),
    In(String),
    Account(String),
    /// Sent before the start of this day.
    Before(Day),
    /// Sent on or after this day.
    After(Day),
    /// Older than this many days (`older_than:3m` is 90).
    OlderThanDays(u32),
    NewerThanDays(u32),
    LargerThan(u64),
    SmallerThan(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Term(Term),
    Not(Box<Query>),
    /// Every part holds (what spaces between terms mean).
    All(Vec<Query>),
    /// At least one part holds (`OR`).
    Any(Vec<Query>),
}

/// Why a query cannot be run, and where (a character offset into the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub at: usize,
    pub message: String,
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The operators, for completion in the search field.
pub const OPERATORS: [&str; 15] = [
    "from:",
    "to:",
    "cc:",
    "subject:",
    "has:attachment",
    "filename:",
    "is:",
    "in:",
    "account:",
    "before:",
    "after:",
    "older_than:",
    "newer_than:",
    "larger:",
    "smaller:",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Open,
    Close,
    Or,
    /// `-` before the next term or group.
    Minus,
    /// A word or `op:value`; `quoted` when the value (or the whole word) was in quotes;
    /// `phrase` when it began with a quote (then a colon inside is text, not an operator).
    Text {
        text: String,
        quoted: bool,
        phrase: bool,
        at: usize,
    },
}

fn tokens(input: &str) -> Result<Vec<Token>, QueryError> {
    let chars: Vec<(usize, char)> = input.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        match c {
            '(' => {
                out.push(Token::Open);
                i += 1;
            }
            ')' => {
                out.push(Token::Close);
                i += 1;
            }
            '-' if chars.get(i + 1).is_some_and(|(_, n)| !n.is_whitespace()) => {
                out.push(Token::Minus);
                i += 1;
            }
            _ => {
                // A word, `op:value` or `op:"quoted value"`, or a "quoted phrase".
                let mut text = String::new();
                let mut quoted = false;
                let phrase = c == '"';
                while i < chars.len() {
                    let (_, c) = chars[i];
                    if c.is_whitespace() || c == '(' || c == ')' {
                        break;
                    }
                    if c == '"' {
                        quoted = true;
                        i += 1;
                        let start = i;
                        while i < chars.len() && chars[i].1 != '"' {
                            text.push(chars[i].1);
                            i += 1;
                        }
                        if i == chars.len() {
                            return Err(QueryError {
                                at: chars.get(start.saturating_sub(1)).map_or(at, |p| p.0),
                                message: "A quote is not closed: add the closing \".".into(),
                            });
                        }
                        i += 1;
                        continue;
                    }
                    text.push(c);
                    i += 1;
                }
                if text == "OR" && !quoted {
                    out.push(Token::Or);
                } else {
                    out.push(Token::Text {
                        text,
                        quoted,
                        phrase,
                        at,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Parses `input`. Ages (`older_than:`) stay relative, so a saved search keeps its meaning;
/// an empty query is an empty `All`.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let toks = tokens(input)?;
    let mut p = Parser {
        toks,
        at: 0,
        len: input.len(),
    };
    let q = p.any()?;
    match p.toks.get(p.at) {
        None => Ok(q),
        Some(Token::Close) => Err(QueryError {
            at: p.len,
            message: "A \")\" has no \"(\" to close.".into(),
        }),
        Some(_) => Err(QueryError {
            at: p.len,
            message: "Petrel could not read the end of the search.".into(),
        }),
    }
}

struct Parser {
    toks: Vec<Token>,
    at: usize,
    len: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.at)
    }

    /// `a OR b OR c` (OR binds tighter than the spaces between terms, as in Gmail:
    /// `x y OR z` is x AND (y OR z)).
    fn any(&mut self) -> Result<Query, QueryError> {
        let mut all = Vec::new();
        while let Some(t) = self.peek() {
            if *t == Token::Close {
                break;
            }
            if *t == Token::Or {
                return Err(QueryError {
                    at: self.len,
                    message: "OR needs a term on each side.".into(),
                });
            }
            let mut alternatives = vec![self.unary()?];
            while self.peek() == Some(&Token::Or) {
                self.at += 1;
                match self.peek() {
                    None | Some(Token::Close) | Some(Token::Or) => {
                        return Err(QueryError {
                            at: self.len,
                            message: "OR needs a term on each side.".into(),
                        })
                    }
                    _ => alternatives.push(self.unary()?),
                }
            }
            all.push(if alternatives.len() == 1 {
                alternatives.remove(0)
            } else {
                Query::Any(alternatives)
            });
        }
        Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Query::All(all)
        })
    }

    fn unary(&mut self) -> Result<Query, QueryError> {
        match self.peek().cloned() {
            Some(Token::Minus) => {
                self.at += 1;
                Ok(Query::Not(Box::new(self.unary()?)))
            }
            Some(Token::Open) => {
                self.at += 1;
                let inner = self.any()?;
                if self.peek() != Some(&Token::Close) {
                    return Err(QueryError {
                        at: self.len,
                        message: "A \"(\" is not closed: add the \")\".".into(),
                    });
                }
                self.at += 1;
                Ok(inner)
            }
            Some(Token::Text {
                text,
                quoted,
                phrase,
                at,
            }) => {
                self.at += 1;
                if phrase {
                    return Ok(Query::Term(if text.contains(char::is_whitespace) {
                        Term::Phrase(text)
                    } else {
                        Term::Word(text)
                    }));
                }
                term(&text, quoted, at).map(Query::Term)
            }
            _ => Err(QueryError {
                at: self.len,
                message: "Petrel could not read the search.".into(),
            }),
        }
    }
}

fn term(text: &str, quoted: bool, at: usize) -> Result<Term, QueryError> {
    let bad = |message: String| QueryError { at, message };
    let Some((op, value)) = text.split_once(':').filter(|(op, _)| {
        !op.is_empty() && op.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
    }) else {
        return Ok(if quoted && text.contains(char::is_whitespace) {
            Term::Phrase(text.to_string())
        } else {
            Term::Word(text.to_string())
        });
    };
    let op = op.to_ascii_lowercase();
    if value.is_empty() && !quoted {
        return Err(bad(format!("{op}: needs a value after the colon.")));
    }
    let value = value.to_string();
    Ok(match op.as_str() {
        "from" => Term::From(value),
        "to" => Term::To(value),
        "cc" => Term::Cc(value),
        "subject" => Term::Subject(value),
        "filename" => Term::Filename(value),
        "in" => Term::In(value),
        "account" => Term::Account(value),
        "has" if value.eq_ignore_ascii_case("attachment") => Term::HasAttachment,
        "has" => {
            return Err(bad(format!(
                "has:{value} is not known: try has:attachment."
            )))
        }
        "is" => match value.to_ascii_lowercase().as_str() {
            "unread" => Term::Is(Flag::Unread),
            "read" => Term::Is(Flag::Read),
            "flagged" | "starred" => Term::Is(Flag::Flagged),
            "answered" | "replied" => Term::Is(Flag::Answered),
            _ => {
                return Err(bad(format!(
                    "is:{value} is not known: try is:unread, is:read, is:flagged or is:answered."
                )))
            }
        },
        "before" | "after" => {
            let day = date(&value).ok_or_else(|| {
                bad(format!(
                    "{op}:{value} is not a date: write it as 2026-11-30 (year-month-day)."
                ))
            })?;
            if op == "before" {
                Term::Before(day)
            } else {
                Term::After(day)
            }
        }
        "older_than" | "newer_than" => {
            let days = age(&value).ok_or_else(|| {
                bad(format!(
                    "{op}:{value} is not an age: write a number and d, m or y (7d, 3m, 1y)."
                ))
            })?;
            if op == "older_than" {
                Term::OlderThanDays(days)
            } else {
                Term::NewerThanDays(days)
            }
        }
        "larger" | "smaller" | "size" => {
            let bytes = size(&value).ok_or_else(|| {
                bad(format!(
                    "{op}:{value} is not a size: write a number, with K or M if you like (200K, 5M)."
                ))
            })?;
            if op == "smaller" {
                Term::SmallerThan(bytes)
            } else {
                Term::LargerThan(bytes)
            }
        }
        _ => {
            return Err(bad(format!(
                "{op}: is not a search operator. Known: {}.",
                OPERATORS.join(" ")
            )))
        }
    })
}

/// `2026-11-30` or `2026/11/30` (Gmail's form), a day that exists.
fn date(value: &str) -> Option<Day> {
    let parts: Vec<&str> = value.split(['-', '/']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    let (year, month, day) = (
        y.parse::<i32>().ok()?,
        m.parse::<u8>().ok()?,
        d.parse::<u8>().ok()?,
    );
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days_in = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (y.len() == 4 && (1..=days_in).contains(&day)).then_some(Day { year, month, day })
}

/// `7d`, `3m` (30 days each), `1y` (365 days).
fn age(value: &str) -> Option<u32> {
    let unit = value.chars().last()?.to_ascii_lowercase();
    let n: u32 = value.get(..value.len() - unit.len_utf8())?.parse().ok()?;
    let per = match unit {
        'd' => 1,
        'w' => 7,
        'm' => 30,
        'y' => 365,
        _ => return None,
    };
    n.checked_mul(per)
}

/// `5M`, `200K`, `1G` (powers of 1024), or plain bytes.
fn size(value: &str) -> Option<u64> {
    let last = value.chars().last()?;
    let (digits, per) = match last.to_ascii_uppercase() {
        'K' => (value.get(..value.len() - 1)?, 1024),
        'M' => (value.get(..value.len() - 1)?, 1024 * 1024),
        'G' => (value.get(..value.len() - 1)?, 1024 * 1024 * 1024),
        c if c.is_ascii_digit() => (value, 1),
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(per)
}

/// What IMAP `UID SEARCH` is sent for a query (RFC 3501 §6.4.4): its criteria, and
/// whether they hold non-ASCII text (then `CHARSET UTF-8`, the text as literals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapSearch {
    pub criteria: String,
    pub utf8: bool,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl Day {
    /// Days since 1970-01-01 (proleptic Gregorian).
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    pub fn from_days_since_epoch(z: i64) -> Day {
        let z = z + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Day { year, month, day }
    }

    /// RFC 3501's date: `30-Nov-2026`.
    fn imap(self) -> String {
        let month = MONTHS
            .get(usize::from(self.month).saturating_sub(1))
            .copied()
            .unwrap_or("Jan");
        format!("{}-{month}-{}", self.day, self.year)
    }
}

/// Whether a list row matches `query` (the quick filter over one folder's cached rows).
/// Words look in the sender and the subject, the parts a row holds; conditions on what a
/// row does not hold (recipients, attachment names, folder, account) do not narrow it.
pub fn matches_row(query: &Query, row: &crate::Envelope, today: Day) -> bool {
    let has = |hay: &str, needle: &str| hay.to_lowercase().contains(&needle.to_lowercase());
    let day_start = |d: Day| d.days_since_epoch() * 86_400;
    let ago = |n: u32| (today.days_since_epoch() - i64::from(n)) * 86_400;
    let date = row.date;
    match query {
        Query::Term(t) => match t {
            Term::Word(w) | Term::Phrase(w) => has(&row.from, w) || has(&row.subject, w),
            Term::From(v) => has(&row.from, v),
            Term::Subject(v) => has(&row.subject, v),
            Term::To(_) | Term::Cc(_) | Term::Filename(_) | Term::In(_) | Term::Account(_) => true,
            Term::HasAttachment => row.has_attachment,
            Term::Is(Flag::Unread) => !row.seen,
            Term::Is(Flag::Read) => row.seen,
            Term::Is(Flag::Flagged) => row.flagged,
            Term::Is(Flag::Answered) => row.answered,
            Term::Before(d) => date.is_some_and(|t| t < day_start(*d)),
            Term::After(d) => date.is_some_and(|t| t >= day_start(*d)),
            Term::OlderThanDays(n) => date.is_some_and(|t| t < ago(*n)),
            Term::NewerThanDays(n) => date.is_some_and(|t| t >= ago(*n)),
            Term::LargerThan(n) => row.size > *n,
            Term::SmallerThan(n) => row.size < *n,
        },
        Query::Not(q) => !matches_row(q, row, today),
        Query::All(parts) => parts.iter().all(|p| matches_row(p, row, today)),
        Query::Any(parts) => parts.iter().any(|p| matches_row(p, row, today)),
    }
}

/// IMAP SEARCH criteria for `query`; `today` turns ages into dates. `in:` and `account:`
/// choose which folders are searched, so they are not criteria (the caller applies them).
/// Dates are the Date header's (SENTBEFORE/SENTSINCE), as the list shows them.
pub fn imap_search(query: &Query, today: Day) -> ImapSearch {
    let mut utf8 = false;
    let criteria = imap_criteria(query, today, &mut utf8);
    ImapSearch {
        criteria: if criteria.is_empty() {
            "ALL".into()
        } else {
            criteria
        },
        utf8,
    }
}

fn imap_criteria(query: &Query, today: Day, utf8: &mut bool) -> String {
    let mut string = |s: &str| {
        if s.is_ascii() {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            // A non-synchronizing literal (RFC 7888): the bytes as they are.
            *utf8 = true;
            format!("{{{}+}}\r\n{s}", s.len())
        }
    };
    let shifted =
        |days: u32| Day::from_days_since_epoch(today.days_since_epoch() - i64::from(days));
    match query {
        Query::Term(t) => match t {
            Term::Word(w) | Term::Phrase(w) => format!("TEXT {}", string(w)),
            Term::From(v) => format!("FROM {}", string(v)),
            Term::To(v) => format!("TO {}", string(v)),
            Term::Cc(v) => format!("CC {}", string(v)),
            Term::Subject(v) => format!("SUBJECT {}", string(v)),
            // No IMAP key says "has an attachment": mail with one is multipart/mixed.
            Term::HasAttachment => "HEADER Content-Type \"multipart/mixed\"".into(),
            Term::Filename(v) => format!("BODY {}", string(v)),
            Term::Is(Flag::Unread) => "UNSEEN".into(),
            Term::Is(Flag::Read) => "SEEN".into(),
            Term::Is(Flag::Flagged) => "FLAGGED".into(),
            Term::Is(Flag::Answered) => "ANSWERED".into(),
            Term::In(_) | Term::Account(_) => String::new(),
            Term::Before(d) => format!("SENTBEFORE {}", d.imap()),
            Term::After(d) => format!("SENTSINCE {}", d.imap()),
            Term::OlderThanDays(n) => format!("SENTBEFORE {}", shifted(*n).imap()),
            Term::NewerThanDays(n) => format!("SENTSINCE {}", shifted(*n).imap()),
            Term::LargerThan(n) => format!("LARGER {n}"),
            Term::SmallerThan(n) => format!("SMALLER {n}"),
        },
        Query::Not(q) => match imap_criteria(q, today, utf8) {
            c if c.is_empty() => String::new(),
            c => format!("NOT ({c})"),
        },
        Query::All(parts) => parts
            .iter()
            .map(|p| imap_criteria(p, today, utf8))
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
        // OR takes two keys: a OR b OR c is OR a (OR b c).
        Query::Any(parts) => {
            let keys: Vec<String> = parts
                .iter()
                .map(|p| imap_criteria(p, today, utf8))
                .filter(|c| !c.is_empty())
                .map(|c| format!("({c})"))
                .collect();
            keys.iter()
                .rev()
                .cloned()
                .reduce(|acc, k| format!("OR {k} {acc}"))
                .unwrap_or_default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(term: Term) -> Query {
        Query::Term(term)
    }
    fn w(s: &str) -> Query {
        t(Term::Word(s.into()))
    }

    #[test]
    fn the_query_table() {
        let day = |year, month, day| Day { year, month, day };
        let table: Vec<(&str, Query)> = vec![
            ("", Query::All(vec![])),
            ("harbour", w("harbour")),
            ("harbour tide", Query::All(vec![w("harbour"), w("tide")])),
            ("\"high tide\"", t(Term::Phrase("high tide".into()))),
            ("\"re: plan\"", t(Term::Phrase("re: plan".into()))),
            ("-spam", Query::Not(Box::new(w("spam")))),
            ("a OR b", Query::Any(vec![w("a"), w("b")])),
            (
                "x y OR z",
                Query::All(vec![w("x"), Query::Any(vec![w("y"), w("z")])]),
            ),
            (
                "(a OR b) -from:bob@example.org",
                Query::All(vec![
                    Query::Any(vec![w("a"), w("b")]),
                    Query::Not(Box::new(t(Term::From("bob@example.org".into())))),
                ]),
            ),
            ("from:\"Ana Lima\"", t(Term::From("Ana Lima".into()))),
            ("subject:Grüße", t(Term::Subject("Grüße".into()))),
            ("has:attachment", t(Term::HasAttachment)),
            (
                "filename:report.pdf",
                t(Term::Filename("report.pdf".into())),
            ),
            ("is:unread", t(Term::Is(Flag::Unread))),
            ("IS:Flagged", t(Term::Is(Flag::Flagged))),
            ("in:\"Work/2026\"", t(Term::In("Work/2026".into()))),
            ("account:work", t(Term::Account("work".into()))),
            ("before:2026-11-30", t(Term::Before(day(2026, 11, 30)))),
            ("after:2024/02/29", t(Term::After(day(2024, 2, 29)))),
            ("older_than:3m", t(Term::OlderThanDays(90))),
            ("newer_than:7d", t(Term::NewerThanDays(7))),
            ("larger:5M", t(Term::LargerThan(5 * 1024 * 1024))),
            ("smaller:200K", t(Term::SmallerThan(200 * 1024))),
            // A colon in a plain word is not an operator ("10:30", a URL).
            ("10:30", w("10:30")),
            ("e-mail", w("e-mail")),
        ];
        for (text, want) in table {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_queries_say_what_is_wrong_in_words() {
        for (text, words) in [
            ("colour:red", "not a search operator"),
            ("before:2026-02-30", "not a date"),
            ("after:yesterday", "not a date"),
            ("older_than:3x", "not an age"),
            ("larger:big", "not a size"),
            ("is:important", "is:important is not known"),
            ("has:pdf", "has:attachment"),
            ("\"open quote", "not closed"),
            ("(a OR b", "not closed"),
            ("a)", "no \"(\""),
            ("a OR", "OR needs a term"),
            ("OR a", "OR needs a term"),
            ("OR", "OR needs a term"),
            ("from:", "needs a value"),
        ] {
            let e = parse(text).expect_err(text);
            assert!(e.message.contains(words), "{text}: {}", e.message);
        }
    }

    #[test]
    fn no_input_panics_the_parser() {
        for text in [
            "-",
            "--a",
            "((",
            "))",
            "\"",
            "a:\"",
            "é:ü",
            "-(",
            "older_than:d",
            "larger:K",
            "😀:1",
        ] {
            let _ = parse(text);
        }
    }

    #[test]
    fn days_count_from_1970_both_ways() {
        let d = Day {
            year: 2026,
            month: 12,
            day: 2,
        };
        assert_eq!(
            Day {
                year: 1970,
                month: 1,
                day: 1
            }
            .days_since_epoch(),
            0
        );
        assert_eq!(Day::from_days_since_epoch(d.days_since_epoch()), d);
        assert_eq!(
            Day::from_days_since_epoch(
                Day {
                    year: 2024,
                    month: 3,
                    day: 1
                }
                .days_since_epoch()
                    - 1
            ),
            Day {
                year: 2024,
                month: 2,
                day: 29
            }
        );
    }

    #[test]
    fn the_same_tree_becomes_imap_search_criteria() {
        let today = Day {
            year: 2026,
            month: 12,
            day: 2,
        };
        let imap = |q: &str| imap_search(&parse(q).unwrap(), today);
        assert_eq!(imap("").criteria, "ALL");
        assert_eq!(imap("harbour").criteria, "TEXT \"harbour\"");
        assert_eq!(
            imap("from:bob is:unread -spam").criteria,
            "FROM \"bob\" UNSEEN NOT (TEXT \"spam\")"
        );
        assert_eq!(
            imap("a OR b OR c").criteria,
            "OR (TEXT \"a\") OR (TEXT \"b\") (TEXT \"c\")"
        );
        assert_eq!(
            imap("before:2026-11-30 newer_than:7d larger:5M").criteria,
            "SENTBEFORE 30-Nov-2026 SENTSINCE 25-Nov-2026 LARGER 5242880"
        );
        assert_eq!(
            imap("in:Work account:home subject:x").criteria,
            "SUBJECT \"x\""
        );
        // A backslash in the text is escaped in the quoted string (RFC 3501 quoted-specials).
        assert_eq!(imap(r"back\slash").criteria, r#"TEXT "back\\slash""#);
        let u = imap("Grüße");
        assert!(u.utf8);
        assert_eq!(u.criteria, "TEXT {7+}\r\nGrüße");
    }
}
