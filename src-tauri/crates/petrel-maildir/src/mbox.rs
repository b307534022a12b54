//! mbox files: one message after another, each opened by a `From ` line. Read as a stream
//! (an mbox from years of mail is gigabytes) and written for export.
//!
//! Which body lines are quoted differs between writers: mboxo (Thunderbird, old Unix mail)
//! turns `From ` into `>From `; mboxrd (mutt, Python, Petrel's export) also quotes lines
//! already quoted (`>From ` → `>>From `), so that reading can take exactly one `>` off any
//! `>…>From ` line. Reading does that. The two differ only for a body line that was
//! `>From ` before the writer quoted it — rare, and the cost is one `>` in a quoted text.
//! A message starts at a `From ` line at the start of the file or after an empty line: an
//! unquoting writer's `From ` in mid-paragraph stays part of the body.

use std::io::{self, BufRead, Write};

/// Largest message kept; larger ones are reported (with their size) and skipped, so a
/// damaged file (a missing separator joining thousands of messages) cannot fill memory.
pub const MAX_MESSAGE: usize = 256 * 1024 * 1024;

/// One message of an mbox file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MboxMessage {
    /// Offset of its `From ` line: reading can resume here.
    pub start: u64,
    /// Offset just after it (the next message's `From ` line, or the end of the file).
    pub end: u64,
    /// The message as it was before it went into the mbox; empty when `oversized`.
    pub raw: Vec<u8>,
    /// Larger than [`MAX_MESSAGE`]: skipped.
    pub oversized: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum MboxError {
    #[error("this is not an mbox file (it does not start with a \"From \" line)")]
    NotMbox,
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// The messages of an mbox, read from `input` whose first byte is at `offset` of the file
/// (0, or a message's `start` to resume there).
pub struct MboxReader<R> {
    input: R,
    offset: u64,
    /// The next message's `From ` line was read already: its offset.
    next_start: Option<u64>,
    started: bool,
    failed: bool,
    line: Vec<u8>,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(input: R, offset: u64) -> Self {
        MboxReader {
            input,
            offset,
            next_start: None,
            started: false,
            failed: false,
            line: Vec::new(),
        }
    }

    fn read_line(&mut self) -> io::Result<usize> {
        self.line.clear();
        let n = self.input.read_until(b'\n', &mut self.line)?;
        self.offset += n as u64;
        Ok(n)
    }

    /// Skips empty lines up to the first `From ` line.
    fn find_first(&mut self) -> Result<Option<u64>, MboxError> {
        loop {
            let at = self.offset;
            if self.read_line()? == 0 {
                return Ok(None);
            }
            if is_blank(&self.line) {
                continue;
            }
            if self.line.starts_with(b"From ") {
                return Ok(Some(at));
            }
            return Err(MboxError::NotMbox);
        }
    }

    fn next_message(&mut self) -> Result<Option<MboxMessage>, MboxError> {
        let start = match self.next_start.take() {
            Some(at) => at,
            None if !self.started => match self.find_first()? {
                Some(at) => at,
                None => return Ok(None),
            },
            None => return Ok(None),
        };
        self.started = true;
        let mut raw = Vec::new();
        let mut size = 0usize;
        let mut previous_blank = false;
        loop {
            let at = self.offset;
            if self.read_line()? == 0 {
                break;
            }
            if previous_blank && self.line.starts_with(b"From ") {
                self.next_start = Some(at);
                break;
            }
            previous_blank = is_blank(&self.line);
            let line = unquoted(&self.line);
            size += line.len();
            if size <= MAX_MESSAGE {
                raw.extend_from_slice(line);
            }
        }
        let oversized = size > MAX_MESSAGE;
        if oversized {
            raw = Vec::new();
        } else {
            strip_separator_line(&mut raw);
        }
        Ok(Some(MboxMessage {
            start,
            end: self.next_start.unwrap_or(self.offset),
            raw,
            oversized,
        }))
    }
}

impl<R: BufRead> Iterator for MboxReader<R> {
    type Item = Result<MboxMessage, MboxError>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let next = self.next_message();
        // An error ends the reading: the position in the file is no longer known.
        self.failed = next.is_err();
        next.transpose()
    }
}

fn is_blank(line: &[u8]) -> bool {
    line == b"\n" || line == b"\r\n"
}

/// `>From ` → `From `, `>>From ` → `>From ` (one `>` off; see the module note).
fn unquoted(line: &[u8]) -> &[u8] {
    let quotes = line.iter().take_while(|&&b| b == b'>').count();
    if quotes > 0 && line[quotes..].starts_with(b"From ") {
        &line[1..]
    } else {
        line
    }
}

/// The empty line that separates a message from the next `From ` line is the mbox's,
/// not the message's: "…last line\r\n" + "\n" (or "\r\n").
fn strip_separator_line(raw: &mut Vec<u8>) {
    if raw.ends_with(b"\n\r\n") {
        raw.truncate(raw.len() - 2);
    } else if raw.ends_with(b"\n\n") {
        raw.truncate(raw.len() - 1);
    }
}

/// Writes one message in mboxrd form: the `From ` line (`sender`, `unix_time` as the
/// asctime date readers expect), the body with `From ` lines quoted, an empty line.
pub fn write_message(
    out: &mut impl Write,
    raw: &[u8],
    sender: &str,
    unix_time: i64,
) -> io::Result<()> {
    let sender: String = sender
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect();
    let sender = if sender.is_empty() {
        "MAILER-DAEMON".to_string()
    } else {
        sender
    };
    writeln!(out, "From {sender} {}", asctime(unix_time))?;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let quotes = line.iter().take_while(|&&b| b == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            out.write_all(b">")?;
        }
        out.write_all(line)?;
    }
    if !raw.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")
}

/// What mbox status headers say of a message: Maildir flags ("S" read, "R" replied, "F"
/// flagged) and whether it was deleted (Thunderbird keeps deleted messages in the file,
/// marked, until the folder is compacted: they must not come back).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MboxStatus {
    pub flags: String,
    pub deleted: bool,
}

/// Reads `X-Mozilla-Status` (Thunderbird: 0x1 read, 0x2 replied, 0x4 flagged, 0x8
/// deleted), `Status` (R read) and `X-Status` (A answered, F flagged, D deleted: mutt,
/// pine) from the header block.
pub fn status(raw: &[u8]) -> MboxStatus {
    let mut flags = String::new();
    let mut deleted = false;
    for line in raw.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = &line[..colon];
        let value = String::from_utf8_lossy(&line[colon + 1..])
            .trim()
            .to_string();
        if name.eq_ignore_ascii_case(b"X-Mozilla-Status") {
            let bits = u32::from_str_radix(&value, 16).unwrap_or(0);
            for (bit, flag) in [(0x1, 'S'), (0x2, 'R'), (0x4, 'F')] {
                if bits & bit != 0 {
                    flags.push(flag);
                }
            }
            deleted |= bits & 0x8 != 0;
        } else if name.eq_ignore_ascii_case(b"Status") {
            if value.contains('R') {
                flags.push('S');
            }
        } else if name.eq_ignore_ascii_case(b"X-Status") {
            for (c, flag) in [('A', 'R'), ('F', 'F')] {
                if value.contains(c) {
                    flags.push(flag);
                }
            }
            deleted |= value.contains('D');
        }
    }
    let mut f: Vec<char> = flags.chars().collect();
    f.sort_unstable();
    f.dedup();
    MboxStatus {
        flags: f.into_iter().collect(),
        deleted,
    }
}

/// `Thu Jan  1 00:00:00 1970` (UTC) for a Unix time: the date of a `From ` line.
fn asctime(unix: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = petrel_core::calendar::civil_from_days(days);
    format!(
        "{} {} {:>2} {:02}:{:02}:{:02} {}",
        DAYS[days.rem_euclid(7) as usize],
        petrel_core::calendar::MONTHS[month - 1],
        day,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        year
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8]) -> Vec<MboxMessage> {
        MboxReader::new(bytes, 0)
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    #[test]
    fn messages_are_split_at_from_lines_after_an_empty_line_and_unquoted() {
        let file = b"From a@x Mon Jan  1 00:00:00 2024\n\
Subject: one\n\n\
>From the start, mboxo quoting.\n\
>>From mboxrd quoting of a quoted line.\n\
From here, a line an unquoting writer left: not a separator.\n\
\n\
From - Tue Jan  2 00:00:00 2024\r\n\
Subject: two\r\n\r\nbody\r\n\r\n";
        let got = read_all(file);
        assert_eq!(got.len(), 2, "two messages: {got:?}");
        assert_eq!(
            String::from_utf8_lossy(&got[0].raw),
            "Subject: one\n\nFrom the start, mboxo quoting.\n>From mboxrd quoting of a quoted line.\nFrom here, a line an unquoting writer left: not a separator.\n"
        );
        assert_eq!(got[1].raw, b"Subject: two\r\n\r\nbody\r\n");
        assert_eq!(got[0].end, got[1].start);
        assert_eq!(got[1].end, file.len() as u64);
        // Resuming at the second message's offset reads only it.
        let rest: Vec<_> = MboxReader::new(&file[got[1].start as usize..], got[1].start)
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert_eq!(rest, vec![got[1].clone()]);
    }

    #[test]
    fn a_file_that_is_not_mbox_is_said_so() {
        let got: Vec<_> = MboxReader::new(&b"Subject: hi\n\nbody\n"[..], 0).collect();
        assert!(matches!(got[..], [Err(MboxError::NotMbox)]), "{got:?}");
        assert!(read_all(b"").is_empty());
    }

    #[test]
    fn written_messages_read_back_byte_for_byte() {
        let messages: Vec<&[u8]> = vec![
            b"Subject: a\r\n\r\nFrom me\r\n>From you\r\n>>From them\r\n",
            b"Subject: b\n\nno final newline",
            b"Subject: c\n\n\n\nends in empty lines\n\n",
        ];
        let mut file = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            write_message(&mut file, m, "ana@example.test", 1_700_000_000 + i as i64).unwrap();
        }
        let got = read_all(&file);
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].raw, messages[0]);
        assert_eq!(got[1].raw, b"Subject: b\n\nno final newline\n");
        assert_eq!(got[2].raw, messages[2]);
        assert!(file.starts_with(b"From ana@example.test Tue Nov 14 22:13:20 2023\n"));
    }

    #[test]
    fn status_headers_become_flags_and_deleted_messages_are_marked() {
        assert_eq!(
            status(b"X-Mozilla-Status: 0005\r\nSubject: x\r\n\r\nX-Status: D\r\n"),
            MboxStatus {
                flags: "FS".into(),
                deleted: false
            }
        );
        assert!(status(b"X-Mozilla-Status: 0009\n\n").deleted);
        assert_eq!(status(b"Status: RO\nX-Status: AF\n\n").flags, "FRS");
        assert!(status(b"X-Status: D\n\n").deleted);
    }

    #[test]
    fn dates_are_asctime() {
        assert_eq!(asctime(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(asctime(951_782_400), "Tue Feb 29 00:00:00 2000");
    }
}
