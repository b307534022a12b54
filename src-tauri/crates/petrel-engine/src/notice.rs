//! What a new-mail notification says: one message by its sender and subject, several at
//! once as one grouped notice. Only unread arrivals in an INBOX count (mail read on another
//! device, moved in, or a folder's first fill does not).

use petrel_core::{FolderChange, MessageAt};

/// Messages named in a grouped notice; the rest are counted.
const NAMED: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailNotice {
    pub title: String,
    pub body: String,
    /// What a click shows: the newest message named.
    pub opens: MessageAt,
}

/// The notice for `change` of the account called `account`, or none.
pub fn new_mail_notice(change: &FolderChange, account: &str) -> Option<MailNotice> {
    if !change.folder.eq_ignore_ascii_case("INBOX") || change.arrived.is_empty() {
        return None;
    }
    let subject = |s: &str| {
        if s.trim().is_empty() {
            "(no subject)".to_string()
        } else {
            s.trim().to_string()
        }
    };
    let sender = |s: &str| {
        if s.trim().is_empty() {
            "(unknown sender)".to_string()
        } else {
            s.trim().to_string()
        }
    };
    let newest = change.arrived.iter().max_by_key(|e| e.uid)?;
    let opens = MessageAt {
        account: change.account.clone(),
        folder: change.folder.clone(),
        uid: newest.uid,
    };
    if let [one] = change.arrived.as_slice() {
        return Some(MailNotice {
            title: sender(&one.from),
            body: subject(&one.subject),
            opens,
        });
    }
    // Newest first; more than listed were added when `added` says so (all unread or not:
    // the count says what is unread of what arrived, as far as listed).
    let count = change.arrived.len();
    let mut lines: Vec<String> = change
        .arrived
        .iter()
        .rev()
        .take(NAMED)
        .map(|e| format!("{}: {}", sender(&e.from), subject(&e.subject)))
        .collect();
    if count > NAMED {
        lines.push(format!("and {} more", count - NAMED));
    }
    Some(MailNotice {
        title: format!("{count} new messages for {account}"),
        body: lines.join("\n"),
        opens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use petrel_core::{AccountId, Envelope};

    fn mail(uid: u32, from: &str, subject: &str) -> Envelope {
        Envelope {
            uid,
            from: from.into(),
            subject: subject.into(),
            date: None,
            seen: false,
            flagged: false,
            answered: false,
            has_attachment: false,
            size: 100,
        }
    }

    fn change(folder: &str, arrived: Vec<Envelope>) -> FolderChange {
        FolderChange {
            account: AccountId("work".into()),
            folder: folder.into(),
            total: 10,
            unread: arrived.len() as u32,
            added: arrived.len() as u32,
            removed: 0,
            flags_changed: 0,
            arrived,
        }
    }

    #[test]
    fn one_message_is_named_by_sender_and_subject() {
        let n = new_mail_notice(
            &change("INBOX", vec![mail(7, "Ana Lima", "Lunch?")]),
            "Work",
        );
        assert_eq!(
            n,
            Some(MailNotice {
                title: "Ana Lima".into(),
                body: "Lunch?".into(),
                opens: MessageAt {
                    account: AccountId("work".into()),
                    folder: "INBOX".into(),
                    uid: 7
                },
            })
        );
    }

    #[test]
    fn many_at_once_are_one_notice_newest_first() {
        let arrived = (1..=5)
            .map(|i| mail(i, &format!("Sender {i}"), &format!("Subject {i}")))
            .collect();
        let n = new_mail_notice(&change("inbox", arrived), "Work").unwrap();
        assert_eq!(n.title, "5 new messages for Work");
        assert_eq!(
            n.body,
            "Sender 5: Subject 5\nSender 4: Subject 4\nSender 3: Subject 3\nand 2 more"
        );
        assert_eq!(n.opens.uid, 5, "a click shows the newest");
    }

    #[test]
    fn nothing_for_other_folders_or_mail_already_read() {
        assert_eq!(
            new_mail_notice(&change("Archive", vec![mail(1, "A", "B")]), "Work"),
            None
        );
        // Added but read elsewhere: nothing listed as arrived, nothing told.
        let mut read = change("INBOX", vec![]);
        read.added = 3;
        assert_eq!(new_mail_notice(&read, "Work"), None);
    }
}
