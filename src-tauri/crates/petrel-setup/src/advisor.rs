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
    // A nearly full mailbox counts as little space, whatever was answered.
    let nearly_full = evidence
        .quota_kib
        .is_some_and(|(used, limit)| limit > 0 && used * 100 >= limit * 80);
    let limited = answers.limited_space || nearly_full;
    let pop3 = policy(answers, evidence, limited);
    // POP3 here cannot leave a backup on the server: it deletes on download (EXPIRE 0).
    let deletes_on_download = evidence.pop3_expire_days == Some(0);

    // What discovery found for this account: answered the check, or could not be asked.
    let imap = evidence.imap_offered || evidence.imap_unchecked;
    let pop = evidence.pop3_offered || evidence.pop3_unchecked;
    let mut advice = advise_among(
        answers,
        provider,
        imap,
        pop,
        pop3,
        limited,
        deletes_on_download,
    );
    if evidence.imap_unchecked || evidence.pop3_unchecked {
        // Said, not hidden: the advice rests on the answers (and the table) alone.
        advice.reasons.truncate(2);
        advice.reasons.push(match provider {
            Some(p) => format!("Petrel could not reach the server to see what it offers: this advice rests on your answers and on what Petrel knows of {}.", p.name),
            None => "Petrel could not reach the server to see what it offers: this advice rests on your answers alone.".into(),
        });
    }
    advice
}

/// The advice among the protocols discovery found (`imap`, `pop`).
#[allow(clippy::too_many_arguments)]
fn advise_among(
    answers: &AdvisorAnswers,
    provider: Option<&ProviderNotes>,
    imap: bool,
    pop: bool,
    pop3: Pop3Options,
    limited: bool,
    deletes_on_download: bool,
) -> Advice {
    let gmail_pop = provider.is_some_and(|p| {
        p.notes
            .iter()
            .any(|n| n.contains("When messages are accessed with POP"))
    });

    if imap && !pop {
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
    if pop && !imap {
        let mut reasons = vec![
            "This server offers POP3 only: mail is downloaded to this computer.".to_string(),
            keep_sentence(&pop3),
        ];
        if deletes_on_download {
            // Whatever the policy says, the server's copy is gone: say so, not "keeps".
            reasons[1] = DELETES_AT_ONCE.into();
        }
        return Advice {
            recommended: IncomingProtocol::Pop3,
            reasons,
            other: "IMAP is not offered by this server.".into(),
            pop3,
            only_choice: true,
        };
    }

    let imap_other = "With IMAP your mail stays on the server: every device sees the same folders and read marks, and the server's space is used.".to_string();
    let pop_other = "With POP3 mail is downloaded to this computer and read here; other devices would not see what you did here, and your mail's only copy may be on this computer.".to_string();

    let (recommended, mut reasons) = if answers.server_backup && deletes_on_download && imap {
        (
            IncomingProtocol::Imap,
            vec![
                "You want the server to keep a backup, and this server deletes mail as soon as POP3 downloads it: with IMAP your mail stays on the server.".to_string(),
            ],
        )
    } else if answers.several_devices {
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
    } else if limited && answers.server_backup {
        // The two wishes pull apart: a full mailbox stops all mail, so space wins.
        (
            IncomingProtocol::Pop3,
            vec![
                "You want the server to keep a backup, but its space is limited: the two conflict. Petrel chose the space, because a full mailbox refuses new mail.".into(),
                keep_sentence(&pop3),
                "Keep a backup of this computer instead.".into(),
            ],
        )
    } else if limited {
        (
            IncomingProtocol::Pop3,
            vec![
                "Your server space is limited: POP3 moves your mail to this computer, so the mailbox does not fill up.".into(),
                keep_sentence(&pop3),
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
                "You are often offline, so POP3 downloads everything to this computer; you also want a backup on the server.".into(),
                keep_sentence(&pop3),
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
    if recommended == IncomingProtocol::Pop3 && deletes_on_download {
        // The server's own rule replaces any "keeps a copy" sentence.
        reasons.retain(|r| *r != keep_sentence(&pop3));
        reasons.insert(reasons.len().min(1), DELETES_AT_ONCE.into());
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

const DELETES_AT_ONCE: &str =
    "This server deletes mail as soon as it is downloaded, whatever Petrel asks.";

/// Days a server copy stays when space is short but a backup was wished for.
const SHORT_DAYS: u32 = 7;

/// The POP3 policy that fits the answers. Little space (answered, or a nearly full
/// mailbox) never keeps mail until it is deleted here: it leaves at once, or after a short
/// while when a backup was also wished for.
fn policy(answers: &AdvisorAnswers, evidence: &ServerEvidence, limited: bool) -> Pop3Options {
    let mut p = Pop3Options::default();
    if limited && answers.server_backup {
        p.leave_on_server = LeaveOnServer::Days;
        p.leave_days = SHORT_DAYS;
    } else if answers.limited_space {
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
    if limited && p.leave_on_server == LeaveOnServer::Days {
        p.leave_days = p.leave_days.min(SHORT_DAYS);
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

    /// The seeds: POP3 with little space takes mail off the server; the words say what the
    /// proposed policy does; a wish for a backup that space rules out is named as a conflict.
    #[test]
    fn little_space_never_keeps_mail_until_deleted_here_and_the_words_match_the_policy() {
        for bits in 0..16u8 {
            let answers = ask(bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
            for quota in [None, Some((95, 100))] {
                let evidence = ServerEvidence {
                    quota_kib: quota,
                    ..both()
                };
                let a = advise(&answers, &evidence, None);
                let little = answers.limited_space || quota.is_some();
                let case = format!("{answers:?} quota {quota:?}: {a:?}");
                if little {
                    assert_ne!(
                        a.pop3.leave_on_server,
                        LeaveOnServer::UntilDeletedHere,
                        "{case}"
                    );
                    if a.pop3.leave_on_server == LeaveOnServer::Days {
                        assert!(a.pop3.leave_days <= 7, "{case}");
                    }
                }
                if a.recommended == IncomingProtocol::Pop3 {
                    let says_keep = a
                        .reasons
                        .iter()
                        .any(|r| r.contains("keeps") || r.contains("removed"));
                    assert!(
                        !says_keep || a.reasons.contains(&keep_sentence(&a.pop3)),
                        "words and policy disagree: {case}"
                    );
                    if little && answers.server_backup {
                        assert!(a.reasons.iter().any(|r| r.contains("conflict")), "{case}");
                    }
                }
            }
        }
    }

    /// A server that deletes on download cannot be a backup over POP3: IMAP when offered,
    /// and the advice says why; offered POP3 alone, it says the server deletes.
    #[test]
    fn a_server_that_deletes_on_download_and_a_wish_for_backup_lead_to_imap() {
        let expire0 = ServerEvidence {
            pop3_expire_days: Some(0),
            ..both()
        };
        for bits in 0..8u8 {
            let answers = ask(bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, true);
            let a = advise(&answers, &expire0, None);
            assert_eq!(a.recommended, IncomingProtocol::Imap, "{answers:?}: {a:?}");
            assert!(
                a.reasons.iter().any(|r| r.contains("deletes mail")),
                "{a:?}"
            );
        }
        let pop_only = ServerEvidence {
            imap_offered: false,
            ..expire0
        };
        let a = advise(&ask(false, true, false, true), &pop_only, None);
        assert_eq!(a.recommended, IncomingProtocol::Pop3);
        assert!(
            a.reasons.iter().any(|r| r.contains("deletes mail")),
            "{a:?}"
        );
        assert!(
            !a.reasons.iter().any(|r| r.contains("keeps its copy")),
            "{a:?}"
        );
    }

    /// Discovery found a server the check could not reach: the advice never picks a protocol
    /// that was not found, and says that it rests on the answers (and the table).
    #[test]
    fn unreachable_servers_are_said_and_unfound_protocols_never_recommended() {
        let pop_only = ServerEvidence {
            pop3_unchecked: true,
            ..ServerEvidence::default()
        };
        let imap_only = ServerEvidence {
            imap_unchecked: true,
            ..ServerEvidence::default()
        };
        let both_unchecked = ServerEvidence {
            imap_unchecked: true,
            pop3_unchecked: true,
            ..ServerEvidence::default()
        };
        let gmail = ProviderNotes {
            name: "Gmail".into(),
            ..ProviderNotes::default()
        };
        for bits in 0..16u8 {
            let answers = ask(bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
            let a = advise(&answers, &pop_only, None);
            assert_eq!(a.recommended, IncomingProtocol::Pop3, "{answers:?}: {a:?}");
            assert!(a.only_choice);
            let b = advise(&answers, &imap_only, Some(&gmail));
            assert_eq!(b.recommended, IncomingProtocol::Imap, "{answers:?}: {b:?}");
            let c = advise(&answers, &both_unchecked, None);
            for advice in [&a, &b, &c] {
                assert!(
                    advice
                        .reasons
                        .iter()
                        .any(|r| r.contains("could not reach the server")),
                    "{advice:?}"
                );
                assert!((1..=3).contains(&advice.reasons.len()), "{advice:?}");
            }
            assert!(b.reasons.iter().any(|r| r.contains("Gmail")), "{b:?}");
        }
        // A server that answered says nothing of the kind.
        let fine = advise(&ask(false, false, false, false), &both(), None);
        assert!(!fine.reasons.iter().any(|r| r.contains("could not reach")));
    }
}
