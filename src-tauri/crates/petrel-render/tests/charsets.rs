//! Every charset people send (the WHATWG Encoding Standard's legacy encodings, UTF-7, and
//! an unknown or lying label): subject, sender name, body and attachment name read as the
//! sender wrote them, in the list and in the reader, in CRLF and LF form. The expected
//! JSON beside each `.eml` was written from the Unicode source text (`make.py`), not from
//! Petrel's output. A failure writes `<name>.actual.json` beside it for review.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use std::path::Path;

#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Expected {
    subject: String,
    from: String,
    text: String,
    attachments: Vec<String>,
}

fn actual(raw: &[u8]) -> Expected {
    let view = petrel_render::message_view(1, raw);
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len());
    let list = petrel_render::list_headers(&raw[..head_end]);
    assert_eq!(
        list.subject, view.subject,
        "the list and the reader agree on the subject"
    );
    Expected {
        subject: view.subject,
        from: list.from,
        text: view.text.replace("\r\n", "\n").trim_end().to_string(),
        attachments: view.attachments.into_iter().map(|a| a.name).collect(),
    }
}

#[test]
fn every_charset_reads_as_written() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/charsets");
    let mut failures = Vec::new();
    let mut n = 0;
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    files.sort();
    for path in files {
        let raw = std::fs::read(&path).unwrap();
        let expected: Expected =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        let lf: Vec<u8> = raw
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .collect::<Vec<_>>()
            .join(&b'\n');
        for (form, bytes) in [("CRLF", &raw), ("LF", &lf)] {
            let got = actual(bytes);
            if got != expected {
                let out = path.with_extension("actual.json");
                let _ = std::fs::write(&out, serde_json::to_string_pretty(&got).unwrap());
                failures.push(format!("{} ({form}): {got:?}", path.display()));
            }
        }
        n += 1;
    }
    assert!(n >= 26, "the corpus has every charset ({n} files)");
    assert!(
        failures.is_empty(),
        "{} of {n} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
