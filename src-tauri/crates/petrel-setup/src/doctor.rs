//! The connection doctor's log as a file a user can send to their provider or a helper:
//! every stage, what was tried and what answered — with the address's local part, user
//! names and anything that looks like a credential replaced.

use petrel_core::DoctorLine;

/// The log as text, `email` redacted (`a…@example.org`).
pub fn export(lines: &[DoctorLine], email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let masked = format!("{}…@{domain}", local.chars().next().unwrap_or('?'));
    let redact = |s: &str| {
        let mut out = s
            .replace(email, &masked)
            .replace(&email.replace('@', "%40"), &masked);
        if !local.is_empty() {
            out = replace_word(&out, local, "…");
        }
        // A credential never enters the log; this is a second line of defence.
        for key in ["password=", "pass=", "AUTH PLAIN ", "LOGIN "] {
            if let Some(i) = out.find(key) {
                out.truncate(i + key.len());
                out.push_str("[redacted]");
            }
        }
        out
    };
    let mut text = format!("Petrel connection log for {masked}\n");
    for l in lines {
        text.push_str(&format!(
            "[{}] {} → {}\n",
            redact(&l.stage),
            redact(&l.tried),
            redact(&l.answer)
        ));
    }
    text
}

/// Replaces `word` where it stands alone (a user name), not inside host names.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().last();
        let after = rest[i + word.len()..].chars().next();
        let edge = |c: Option<char>| c.is_none_or(|c| c.is_whitespace() || "=:,;\"'()".contains(c));
        out.push_str(&rest[..i]);
        out.push_str(if edge(before) && edge(after) {
            with
        } else {
            word
        });
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_address_and_credentials_do_not_leave() {
        let lines = vec![
            petrel_core::DoctorLine {
                stage: "autoconfig".into(),
                tried: "https://autoconfig.example.org/mail/config-v1.1.xml?emailaddress=ana.lima@example.org".into(),
                answer: "HTTP 404".into(),
            },
            petrel_core::DoctorLine {
                stage: "verifying".into(),
                tried: "imap.example.org:993 as ana.lima".into(),
                answer: "refused: LOGIN ana.lima secret".into(),
            },
        ];
        let text = super::export(&lines, "ana.lima@example.org");
        assert!(!text.contains("ana.lima"), "{text}");
        assert!(!text.contains("secret"), "{text}");
        assert!(
            text.contains("a…@example.org") && text.contains("HTTP 404"),
            "{text}"
        );
        // A short local part is not cut out of host names.
        let line = petrel_core::DoctorLine {
            stage: "probing".into(),
            tried: "mail.mail.org:993 as mail".into(),
            answer: "ok".into(),
        };
        let hosts = super::export(&[line], "mail@mail.org");
        assert!(hosts.contains("mail.mail.org:993 as …"), "{hosts}");
    }
}
