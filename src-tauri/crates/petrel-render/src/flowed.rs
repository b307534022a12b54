//! `format=flowed` plain text (RFC 3676): lines ending in a space continue on the next line
//! of the same quote depth, so a paragraph wraps to the reader's width instead of at the
//! sender's 72 columns. Quote marks (`>`) are counted, space-stuffing is undone, and
//! `delsp=yes` drops the space that marked the soft break.

/// The paragraphs of a flowed text, each on one line, quoted ones prefixed with their
/// depth of `>` and a space.
pub fn unflow(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    // The paragraph being joined: its depth and text.
    let mut open: Option<(usize, String)> = None;
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let depth = line.chars().take_while(|&c| c == '>').count();
        // '>' is one byte: the slice starts on a character boundary.
        let mut content = &line[depth..];
        // Space-stuffing (§4.4): a line starting with a space had one added.
        if let Some(rest) = content.strip_prefix(' ') {
            content = rest;
        }
        // The signature separator is never flowed (§4.3).
        let soft = content.ends_with(' ') && content != "-- ";
        let piece = if soft && delsp {
            &content[..content.len() - 1]
        } else {
            content
        };
        match &mut open {
            Some((d, para)) if *d == depth => para.push_str(piece),
            Some(_) => {
                // A change of depth ends the paragraph (§4.5).
                if let Some((d, para)) = open.take() {
                    push_line(&mut out, d, &para);
                }
                open = Some((depth, piece.to_string()));
            }
            None => open = Some((depth, piece.to_string())),
        }
        if !soft {
            if let Some((d, para)) = open.take() {
                push_line(&mut out, d, &para);
            }
        }
    }
    if let Some((d, para)) = open.take() {
        push_line(&mut out, d, &para);
    }
    // The split left one line for the text's final newline.
    if out.ends_with("\n\n") && !text.ends_with("\n\n") && !text.ends_with("\r\n\r\n") {
        out.pop();
    }
    if !text.ends_with('\n') && out.ends_with('\n') {
        out.pop();
    }
    out
}

fn push_line(out: &mut String, depth: usize, text: &str) {
    if depth > 0 {
        out.push_str(&">".repeat(depth));
        out.push(' ');
    }
    out.push_str(text.trim_end_matches(' '));
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn soft_breaks_join_hard_breaks_stay_quotes_keep_their_depth() {
        let text = "Hello Ana,\r\n\r\nThe boat leaves at nine \r\nfrom pier 3, \r\nif the wind allows.\r\n\r\n> You wrote: \r\n> shall we \r\n>> older text \r\n>> here\r\n> go?\r\n-- \r\nBo\r\n";
        assert_eq!(
            unflow(text, false),
            "Hello Ana,\n\nThe boat leaves at nine from pier 3, if the wind allows.\n\n> You wrote: shall we\n>> older text here\n> go?\n--\nBo\n"
        );
    }

    #[test]
    fn delsp_drops_the_marking_space_and_stuffing_is_undone() {
        assert_eq!(
            unflow("Ein lan \r\nges Wort\r\n", true),
            "Ein langes Wort\n"
        );
        assert_eq!(unflow(" From the start\r\n", false), "From the start\n");
        assert_eq!(unflow("no newline", false), "no newline");
        assert_eq!(unflow("", false), "");
    }
}
