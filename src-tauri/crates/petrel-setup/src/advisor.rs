//! The one choice that matters, in plain words: POP3 or IMAP. The answers to four questions
//! (several devices? unreliable connection? little server space? should the server keep a
//! backup?) are combined with what the server offers (both protocols? quota nearly full?
//! POP3 EXPIRE and LOGIN-DELAY, the provider's notes) into one recommendation, its reasons,
//! what the other choice would mean, and the POP3 policy that fits.

use petrel_core::{
    Advice, AdvisorAnswers, IncomingProtocol, LeaveOnServer, Pop3Options, ProviderNotes,
    ServerEvidence,
};

pub fn advise(
    answers: &AdvisorAnswers,
    evidence: &ServerEvidence,
    provider: Option<&ProviderNotes>,
) -> Advice {
    let pop3 = policy(answers, evidence);
    // A nearly full mailbox counts as little space, whatever was answered.
    let nearly_full = evidence
        .quota_kib
        .is_some_and(|(used, limit)| limit > 0 && used * 100 >= limit * 80);
    let limited = answers.limited_space || nearly_full;
    let gmail_pop = provider.is_some_and(|p| {
        p.notes
            .iter()
            .any(|n| n.contains("When messages are accessed with POP"))
    });

    if evidence.imap_offered && !evidence.pop3_offered {
        return Advice {
            recommended: IncomingProtocol::Imap,
            reasons: vec![
                "This server offers IMAP only: your mail stays on the server and every device sees the same folders.".into(),
            ],
            other: "POP3 is not offered by this server.".into(),
            pop3,
            only_choice: true,
        };
    }
    if evidence.pop3_offered && !evidence.imap_offered {
        return Advice {
            recommended: IncomingProtocol::Pop3,
            reasons: vec![
                "This server offers POP3 only: mail is downloaded to this computer.".into(),
                keep_sentence(&pop3),
            ],
            other: "IMAP is not offered by this server.".into(),
            pop3,
            only_choice: true,
        };
    }

    let imap_other = "With IMAP your mail stays on the server: every device sees the same folders and read marks, and the server's space is used.".to_string();
    let pop_other = "With POP3 mail is downloaded to this computer and read here; other devices would not see what you did here, and your mail's only copy may be on this computer.".to_string();

    let (recommended, mut reasons) = if answers.several_devices {
        let mut r = vec![
            "You read mail on more than one device: with IMAP they all show the same mail, folders and read marks, and what you send appears in Sent everywhere.".to_string(),
        ];
        if answers.unreliable_connection {
            r.push("For times without a connection, Petrel can keep copies of your mail on this computer (Account options).".into());
        }
        if limited {
            r.push("Your server space is limited: delete or archive old mail now and then, or choose a shorter sync window.".into());
        }
        (IncomingProtocol::Imap, r)
    } else if limited {
        (
            IncomingProtocol::Pop3,
            vec![
                "Your server space is limited: POP3 moves your mail to this computer and removes it from the server, so the mailbox does not fill up.".into(),
                "Only this computer will have your mail: keep a backup of it.".into(),
            ],
        )
    } else if answers.unreliable_connection && !answers.server_backup {
        (
            IncomingProtocol::Pop3,
            vec![
                "You read mail on this computer only and are often without a good connection: POP3 downloads everything, so all your mail is readable offline.".into(),
                keep_sentence(&pop3),
            ],
        )
    } else if answers.unreliable_connection && answers.server_backup {
        (
            IncomingProtocol::Pop3,
            vec![
                "You are often offline, so POP3 downloads everything to this computer.".into(),
                "Because you want a backup, the server keeps its copy until you delete a message here.".into(),
            ],
        )
    } else if answers.server_backup {
        (
            IncomingProtocol::Imap,
            vec![
                "With IMAP the server keeps all your mail: it is your backup, and you can add a phone or another computer later without moving anything.".into(),
            ],
        )
    } else {
        (
            IncomingProtocol::Imap,
            vec![
                "IMAP keeps your mail on the server and shows it here: nothing is lost if this computer breaks, and adding another device later is easy.".into(),
            ],
        )
    };
    if recommended == IncomingProtocol::Pop3 && gmail_pop {
        reasons.push("Gmail decides itself what happens to its copy after a POP3 download: check the setting named in the note below.".into());
    }
    if recommended == IncomingProtocol::Pop3 && evidence.pop3_expire_days == Some(0) {
        reasons.push(
            "This server deletes mail as soon as it is downloaded, whatever Petrel asks.".into(),
        );
    }
    reasons.truncate(3);
    Advice {
        recommended,
        other: if recommended == IncomingProtocol::Imap {
            pop_other
        } else {
            imap_other
        },
        reasons,
        pop3,
        only_choice: false,
    }
}

/// The POP3 policy that fits the answers.
fn policy(answers: &AdvisorAnswers, evidence: &ServerEvidence) -> Pop3Options {
    let mut p = Pop3Options::default();
    if answers.limited_space && !answers.server_backup {
        p.leave_on_server = LeaveOnServer::Never;
    } else if answers.server_backup {
        p.leave_on_server = LeaveOnServer::UntilDeletedHere;
        p.delete_when_deleted_here = true;
    } else if answers.several_devices {
        // Other devices get a chance to see new mail before it leaves the server.
        p.leave_on_server = LeaveOnServer::Days;
        p.leave_days = 14;
    } else {
        p.leave_on_server = LeaveOnServer::Days;
        p.leave_days = 7;
    }
    if let Some(days) = evidence.pop3_expire_days {
        if days != u32::MAX && p.leave_on_server == LeaveOnServer::Days {
            p.leave_days = p.leave_days.min(days);
        }
    }
    if let Some(delay) = evidence.pop3_login_delay {
        p.check_minutes = p.check_minutes.max(delay.div_ceil(60));
    }
    p
}

fn keep_sentence(p: &Pop3Options) -> String {
    match p.leave_on_server {
        LeaveOnServer::Never => "Mail is removed from the server once it is safely here.".into(),
        LeaveOnServer::Days => format!(
            "The server keeps a copy for {} days, then it is removed there.",
            p.leave_days
        ),
        LeaveOnServer::UntilDeletedHere => {
            "The server keeps its copy until you delete the message here.".into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both() -> ServerEvidence {
        ServerEvidence {
            imap_offered: true,
            pop3_offered: true,
            ..ServerEvidence::default()
        }
    }

    fn ask(several: bool, unreliable: bool, limited: bool, backup: bool) -> AdvisorAnswers {
        AdvisorAnswers {
            several_devices: several,
            unreliable_connection: unreliable,
            limited_space: limited,
            server_backup: backup,
        }
    }

    #[test]
    fn the_table_of_answers_and_evidence() {
        use IncomingProtocol::{Imap, Pop3};
        use LeaveOnServer::{Days, Never, UntilDeletedHere};
        // (answers, evidence, protocol, leave policy, days)
        let cases: Vec<(
            AdvisorAnswers,
            ServerEvidence,
            IncomingProtocol,
            LeaveOnServer,
            u32,
        )> = vec![
            // Several devices → IMAP (even offline or short of space); POP3 would leave 14 days.
            (ask(true, false, false, false), both(), Imap, Days, 14),
            (ask(true, true, false, false), both(), Imap, Days, 14),
            (ask(true, false, true, false), both(), Imap, Never, 14),
            // One device + unreliable connection → POP3.
            (ask(false, true, false, false), both(), Pop3, Days, 7),
            // Limited space → POP3 that deletes from the server.
            (ask(false, false, true, false), both(), Pop3, Never, 14),
            (ask(false, true, true, false), both(), Pop3, Never, 14),
            // Backup wanted → IMAP, or POP3 leaving mail on the server when offline a lot.
            (
                ask(false, false, false, true),
                both(),
                Imap,
                UntilDeletedHere,
                14,
            ),
            (
                ask(false, true, false, true),
                both(),
                Pop3,
                UntilDeletedHere,
                14,
            ),
            // Nothing special → IMAP.
            (ask(false, false, false, false), both(), Imap, Days, 7),
            // A nearly full mailbox counts as limited space.
            (
                ask(false, false, false, false),
                ServerEvidence {
                    quota_kib: Some((95, 100)),
                    ..both()
                },
                Pop3,
                Days,
                7,
            ),
            // The server's EXPIRE caps the days.
            (
                ask(false, true, false, false),
                ServerEvidence {
                    pop3_expire_days: Some(3),
                    ..both()
                },
                Pop3,
                Days,
                3,
            ),
            // Only one protocol offered: that one.
            (
                ask(false, true, true, false),
                ServerEvidence {
                    imap_offered: true,
                    ..ServerEvidence::default()
                },
                Imap,
                Never,
                14,
            ),
            (
                ask(true, false, false, false),
                ServerEvidence {
                    pop3_offered: true,
                    ..ServerEvidence::default()
                },
                Pop3,
                Days,
                14,
            ),
        ];
        for (i, (answers, evidence, protocol, leave, days)) in cases.into_iter().enumerate() {
            let a = advise(&answers, &evidence, None);
            assert_eq!(
                a.recommended, protocol,
                "case {i}: {answers:?} {evidence:?}"
            );
            assert_eq!(a.pop3.leave_on_server, leave, "case {i}");
            assert_eq!(a.pop3.leave_days, days, "case {i}");
            assert!(
                (1..=3).contains(&a.reasons.len()),
                "case {i}: {:?}",
                a.reasons
            );
            assert!(!a.other.is_empty());
        }
    }

    #[test]
    fn evidence_and_provider_notes_reach_the_words() {
        let only = advise(
            &ask(true, false, false, false),
            &ServerEvidence {
                imap_offered: true,
                ..ServerEvidence::default()
            },
            None,
        );
        assert!(only.only_choice && only.other.contains("not offered"));
        let gmail = ProviderNotes {
            name: "Gmail".into(),
            notes: vec!["See \"When messages are accessed with POP\".".into()],
            ..ProviderNotes::default()
        };
        let a = advise(&ask(false, true, false, false), &both(), Some(&gmail));
        assert!(
            a.reasons.iter().any(|r| r.contains("Gmail decides")),
            "{:?}",
            a.reasons
        );
        let slow = advise(
            &ask(false, true, false, false),
            &ServerEvidence {
                pop3_login_delay: Some(900),
                ..both()
            },
            None,
        );
        assert_eq!(
            slow.pop3.check_minutes, 15,
            "never more often than LOGIN-DELAY allows"
        );
    }
}
