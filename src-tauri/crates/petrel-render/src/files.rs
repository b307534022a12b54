//! Attachment file names and what "Open" may do with a file from a message.
//!
//! A name from a mail can be anything: path parts, control and bidi characters
//! (`invoice\u{202E}fdp.exe` shows as "invoiceexe.pdf"), Windows device names (`CON`,
//! `nul.txt`), trailing dots that Windows drops. `safe_file_name` gives a name that is safe
//! to write and honest to show, the same for both. `open_risk` sorts types into those
//! opened at once, those that need the user's yes (naming the type), and those never opened
//! from mail (programs and scripts on Windows, macOS or Linux), which are only saved.

use petrel_core::OpenRisk;

/// The longest file name written, in bytes (ext4, NTFS and APFS allow 255).
const MAX_NAME_BYTES: usize = 240;

/// Unicode general category Cf (format characters: bidi controls, zero-width and
/// invisible marks, tags), Unicode 15.1. They change how a name looks without being seen.
fn is_format(c: char) -> bool {
    // The first is U+00AD: ASCII and Latin-1 letters are decided by one comparison.
    (c as u32) >= 0xAD
        && matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2
        | 0x180E | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F
        | 0xFEFF | 0xFFF9..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F)
}

/// `text` without format characters (bidi overrides, zero-width marks): for names and
/// subjects shown in lists, where they could make one thing look like another.
/// Text without any (nearly all) is borrowed as it is.
pub fn without_format_chars(text: &str) -> std::borrow::Cow<'_, str> {
    // Format characters are all outside ASCII: most text is decided by one fast check.
    if text.is_ascii() || !text.chars().any(is_format) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(text.chars().filter(|c| !is_format(*c)).collect())
}

/// Device names Windows reserves in any folder, with or without an extension.
const WINDOWS_RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com0", "com1", "com2", "com3", "com4", "com5", "com6", "com7",
    "com8", "com9", "com¹", "com²", "com³", "lpt0", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6",
    "lpt7", "lpt8", "lpt9", "lpt¹", "lpt²", "lpt³", "conin$", "conout$",
];

/// A file name from a mail made safe to write and to show: its last path segment, without
/// control, format (bidi) or reserved characters, leading dots, trailing dots and spaces;
/// never a Windows device name; at most 240 bytes with its extension kept.
pub fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_format(*c))
        .filter(|c| !matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|'))
        .collect();
    // Leading dots (hidden files) and trailing dots and spaces (Windows drops them, so
    // "x.exe. " would run as x.exe), however they are interleaved with spaces.
    let cleaned = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
        .to_string();
    if cleaned.is_empty() {
        return "attachment".into();
    }
    let stem = cleaned.split('.').next().unwrap_or_default().trim_end();
    let cleaned = if WINDOWS_RESERVED.contains(&stem.to_lowercase().as_str()) {
        format!("_{cleaned}")
    } else {
        cleaned
    };
    shorten(&cleaned)
}

/// Cuts a name to `MAX_NAME_BYTES` at a character boundary, keeping the extension.
fn shorten(name: &str) -> String {
    if name.len() <= MAX_NAME_BYTES {
        return name.to_string();
    }
    let ext = extension_of(name)
        .map(|e| format!(".{e}"))
        .filter(|e| e.len() <= 32)
        .unwrap_or_default();
    let stem = name.strip_suffix(ext.as_str()).unwrap_or(name);
    let mut out = String::new();
    for c in stem.chars() {
        if out.len() + c.len_utf8() + ext.len() > MAX_NAME_BYTES {
            break;
        }
        out.push(c);
    }
    // The cut may leave a space or dot at the end of the stem.
    let mut out = out
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
        .to_string();
    out.push_str(&ext);
    out
}

fn extension_of(name: &str) -> Option<&str> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then_some(ext)
}

/// The extension the file really has once cleaned (lower-case, without the dot), shown
/// next to the name: "exe" for `invoice\u{202E}fdp.exe`.
pub fn true_extension(name: &str) -> String {
    extension_of(&safe_file_name(name))
        .map(str::to_lowercase)
        .unwrap_or_default()
}

/// Programs, scripts and things that run or install something when opened, on Windows
/// (the `AssocIsDangerous` list and Outlook's Level 1), macOS (Gatekeeper's bypasses) and
/// Linux desktops.
const NEVER_OPEN: &[&str] = &[
    // Windows
    "exe",
    "com",
    "scr",
    "pif",
    "bat",
    "cmd",
    "msi",
    "msp",
    "mst",
    "msix",
    "msixbundle",
    "appx",
    "appxbundle",
    "appref-ms",
    "application",
    "gadget",
    "cpl",
    "dll",
    "ocx",
    "sys",
    "drv",
    "js",
    "jse",
    "vb",
    "vbe",
    "vbs",
    "wsf",
    "wsh",
    "ws",
    "wsc",
    "hta",
    "lnk",
    "url",
    "scf",
    "reg",
    "inf",
    "ins",
    "isp",
    "msc",
    "ps1",
    "ps1xml",
    "ps2",
    "psc1",
    "psd1",
    "psm1",
    "pssc",
    "mshxml",
    "chm",
    "hlp",
    "iso",
    "img",
    "vhd",
    "vhdx",
    "xll",
    "xbap",
    "settingcontent-ms",
    "library-ms",
    "search-ms",
    "searchconnector-ms",
    "diagcab",
    "mde",
    "mdb",
    "accde",
    "ade",
    "adp",
    "crt",
    "cer",
    "der",
    "jar",
    "jnlp",
    "one",
    "onepkg",
    "website",
    "xnk",
    "grp",
    "hpj",
    "its",
    "mau",
    "ksh",
    "csh",
    "shb",
    "shs",
    "sct",
    "plg",
    "prg",
    "mcf",
    "mmc",
    "mof",
    "pcd",
    "vsmacros",
    "vsw",
    "vss",
    "vst",
    "cnt",
    "fxp",
    "nsh",
    "printerexport",
    "rdp",
    // macOS
    "app",
    "command",
    "terminal",
    "tool",
    "pkg",
    "mpkg",
    "dmg",
    "fileloc",
    "webloc",
    "inetloc",
    "workflow",
    "action",
    "scpt",
    "scptd",
    "applescript",
    "osax",
    "prefpane",
    "kext",
    "plugin",
    "dylib",
    "bundle",
    "definition",
    "shortcut",
    // Linux and any Unix
    "sh",
    "bash",
    "zsh",
    "fish",
    "run",
    "bin",
    "out",
    "elf",
    "so",
    "desktop",
    "appimage",
    "deb",
    "rpm",
    "snap",
    "flatpak",
    "flatpakref",
    "flatpakrepo",
    "py",
    "pyc",
    "pyw",
    "pl",
    "rb",
    "php",
    "lua",
    "tcl",
    "awk",
    "x86_64",
    "ko",
];

/// Content types that are programs or scripts whatever the name says.
const NEVER_OPEN_TYPES: &[&str] = &[
    "application/x-msdownload",
    "application/x-msdos-program",
    "application/x-ms-installer",
    "application/x-msi",
    "application/vnd.microsoft.portable-executable",
    "application/x-dosexec",
    "application/x-executable",
    "application/x-elf",
    "application/x-sharedlib",
    "application/x-sh",
    "application/x-shellscript",
    "application/x-csh",
    "application/java-archive",
    "application/x-java-archive",
    "application/x-java-jnlp-file",
    "application/x-desktop",
    "application/x-apple-diskimage",
    "application/x-appimage",
    "application/hta",
    "application/x-ms-shortcut",
    "application/javascript",
    "text/javascript",
    "application/x-javascript",
    "application/x-python",
    "text/x-python",
    "text/x-shellscript",
    "application/x-perl",
    "application/x-ruby",
    "application/vnd.debian.binary-package",
    "application/x-rpm",
];

/// Types opened without asking: documents, pictures, sound and video that the usual
/// viewers show without running anything.
const OPEN_WITHOUT_ASKING: &[&str] = &[
    "pdf", "png", "jpg", "jpeg", "gif", "webp", "heic", "heif", "bmp", "tif", "tiff", "avif",
    "txt", "csv", "md", "log", "ics", "vcf", "odt", "ods", "odp", "odg", "docx", "xlsx", "pptx",
    "doc", "xls", "ppt", "rtf", "epub", "mp3", "m4a", "wav", "ogg", "oga", "opus", "flac", "mp4",
    "m4v", "mov", "webm", "mkv", "avi",
];

/// What "Open" may do with this attachment (see the module notes). The file's first bytes
/// count too: a program is a program whatever its name.
pub fn open_risk(name: &str, content_type: &str, first_bytes: &[u8]) -> OpenRisk {
    let ext = true_extension(name);
    let ctype = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let program = first_bytes.starts_with(b"MZ")
        || first_bytes.starts_with(b"\x7fELF")
        || first_bytes.starts_with(b"#!")
        || first_bytes.starts_with(&[0xCF, 0xFA, 0xED, 0xFE])
        || first_bytes.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE]);
    if NEVER_OPEN.contains(&ext.as_str()) || NEVER_OPEN_TYPES.contains(&ctype.as_str()) || program {
        OpenRisk::Blocked
    } else if OPEN_WITHOUT_ASKING.contains(&ext.as_str()) {
        OpenRisk::Safe
    } else {
        OpenRisk::Ask
    }
}

/// How the type is named to the user when "Open" asks: ".xyz file (type/subtype)".
pub fn type_label(name: &str, content_type: &str) -> String {
    let ext = true_extension(name);
    let ctype = content_type.split(';').next().unwrap_or_default().trim();
    match (ext.is_empty(), ctype.is_empty()) {
        (false, false) => format!(".{ext} file ({ctype})"),
        (false, true) => format!(".{ext} file"),
        (true, false) => format!("file without an extension ({ctype})"),
        (true, true) => "file of unknown type".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_attachment_names_stay_in_their_folder() {
        assert_eq!(safe_file_name("../../.bashrc"), "bashrc");
        assert_eq!(safe_file_name("C:\\Windows\\evil.exe"), "evil.exe");
        assert_eq!(safe_file_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(safe_file_name(".."), "attachment");
        // Found by the long property run: dots and spaces interleaved at either end.
        assert_eq!(safe_file_name("<.> <.a>"), "a");
        assert_eq!(safe_file_name(". .hidden . ."), "hidden");
        assert_eq!(safe_file_name("report.pdf"), "report.pdf");
    }

    #[test]
    fn list_text_loses_bidi_tricks() {
        assert_eq!(
            without_format_chars("Invoice \u{202E}fdp.exe"),
            "Invoice fdp.exe"
        );
        assert_eq!(without_format_chars("Grüße"), "Grüße");
    }

    #[test]
    fn names_show_what_they_are() {
        // Right-to-left override: shown as "invoiceexe.pdf" before cleaning.
        assert_eq!(safe_file_name("invoice\u{202E}fdp.exe"), "invoicefdp.exe");
        assert_eq!(true_extension("invoice\u{202E}fdp.exe"), "exe");
        assert_eq!(
            safe_file_name("a\u{2066}b\u{2069}\u{200B}c\u{FEFF}.txt"),
            "abc.txt"
        );
        // Windows drops trailing dots and spaces: "x.exe." would run as x.exe.
        assert_eq!(safe_file_name("photo.jpg.exe. . "), "photo.jpg.exe");
        assert_eq!(true_extension("photo.jpg.exe. . "), "exe");
        for reserved in ["CON", "nul.txt", "Com1.pdf", "LPT9", "aux.tar.gz"] {
            assert!(safe_file_name(reserved).starts_with('_'), "{reserved}");
        }
        assert_eq!(safe_file_name("console.txt"), "console.txt");
        // Long names fit a file system (255 bytes), cut at a character, extension kept.
        let long = format!("{}.pdf", "ü".repeat(300));
        let safe = safe_file_name(&long);
        assert!(
            safe.len() <= MAX_NAME_BYTES && safe.ends_with(".pdf"),
            "{}",
            safe.len()
        );
    }

    #[test]
    fn programs_are_never_opened_and_unknown_types_ask() {
        assert_eq!(
            open_risk("report.pdf", "application/pdf", b"%PDF-1.7"),
            OpenRisk::Safe
        );
        assert_eq!(
            open_risk("invoice\u{202E}fdp.exe", "application/pdf", b"%PDF"),
            OpenRisk::Blocked
        );
        for name in [
            "a.hta",
            "b.js",
            "c.lnk",
            "d.scr",
            "e.msi",
            "f.command",
            "g.terminal",
            "h.fileloc",
            "i.jar",
            "j.desktop",
            "k.sh",
            "l.AppImage",
            "m.ps1",
            "n.app",
        ] {
            assert_eq!(
                open_risk(name, "application/octet-stream", b""),
                OpenRisk::Blocked,
                "{name}"
            );
        }
        // A program whatever its name or type claims; archives and SVG ask.
        let cases: [(&str, &str, &[u8], OpenRisk); 5] = [
            ("cat.jpg", "image/jpeg", b"MZ\x90\x00", OpenRisk::Blocked),
            (
                "notes.txt",
                "text/plain",
                b"#!/bin/sh\nrm -rf ~",
                OpenRisk::Blocked,
            ),
            ("x.pdf", "application/x-msdownload", b"", OpenRisk::Blocked),
            ("archive.zip", "application/zip", b"PK", OpenRisk::Ask),
            ("drawing.svg", "image/svg+xml", b"<svg", OpenRisk::Ask),
        ];
        for (name, ctype, head, risk) in cases {
            assert_eq!(open_risk(name, ctype, head), risk, "{name}");
        }
        assert_eq!(open_risk("noext", "", b""), OpenRisk::Ask);
        assert_eq!(
            type_label("archive.zip", "application/zip"),
            ".zip file (application/zip)"
        );
    }
}
