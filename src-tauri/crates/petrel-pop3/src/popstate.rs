//! Thunderbird's `popstate.dat`: which POP3 messages another client already downloaded
//! (by UIDL), so an account moved from it does not download them again.

/// One message Thunderbird's POP3 code recorded (popstate.dat): `k` kept on the server,
/// `d` to delete there, `b`/`f` only partly downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopState {
    pub uidl: String,
    pub flag: char,
    /// When it was downloaded (Unix seconds).
    pub time: i64,
}

/// The entries of a popstate.dat (`*host user` lines start a server's block; `#` comments).
pub fn popstate(text: &str) -> Vec<PopState> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('*') {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(flag), Some(uidl)) = (parts.next(), parts.next()) else {
            continue;
        };
        let Some(flag) = flag.chars().next().filter(|_| flag.chars().count() == 1) else {
            continue;
        };
        out.push(PopState {
            uidl: uidl.to_string(),
            flag,
            time: parts.next().and_then(|t| t.parse().ok()).unwrap_or(0),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn popstate_lines_are_entries() {
        let got = popstate("# POP3 State File\n# This is a generated file!  Do not edit.\n\n*pop.example.test ana\nk 000001a 1700000000\nd 000001b 1700000100\nx\n");
        assert_eq!(
            got,
            vec![
                PopState {
                    uidl: "000001a".into(),
                    flag: 'k',
                    time: 1_700_000_000
                },
                PopState {
                    uidl: "000001b".into(),
                    flag: 'd',
                    time: 1_700_000_100
                },
            ]
        );
    }
}
