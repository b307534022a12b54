//! HTML mail made safe to show. Layers, each enough on its own for scripts:
//! 1. here, ammonia keeps a conservative set of tags and attributes: no scripts, event
//!    handlers, forms, frames, objects, meta refresh, `<style>` or `<link>`; links only to
//!    http(s)/mailto and opened outside (`target=_blank`, the shell hands them to the system
//!    browser); images only `cid:` (inlined here as `data:`), `data:image/…` or http(s);
//! 2. the UI shows the result in an iframe sandboxed without scripts or same-origin, whose
//!    CSP allows no fetch at all except images — and remote images only when the user says;
//! 3. the app's own CSP.
//!
//! Remote references (images, CSS `url()`) are reported so the UI can offer to load them.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeHtml {
    pub html: String,
    /// The mail refers to images or styles on the network (tracking pixels included).
    pub remote_content: bool,
}

/// Sanitizes `html`; `inline` maps Content-ID (without `<>`) to a `data:` URL.
pub fn sanitize(html: &str, inline: HashMap<String, String>) -> SafeHtml {
    let remote = Arc::new(AtomicBool::new(false));
    let seen_remote = remote.clone();
    let mut builder = ammonia::Builder::default();
    builder
        .add_tags(["font", "center"])
        .add_generic_attributes([
            "style", "align", "valign", "bgcolor", "width", "height", "dir", "border",
        ])
        .add_tag_attributes("font", ["color", "face", "size"])
        .add_tag_attributes("table", ["cellpadding", "cellspacing"])
        .url_schemes(
            ["http", "https", "mailto", "cid", "data"]
                .into_iter()
                .collect(),
        )
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer"))
        .set_tag_attribute_value("a", "target", "_blank")
        .attribute_filter(move |element, attribute, value| {
            let lower = value.trim().to_ascii_lowercase();
            let is_remote = lower.starts_with("http:") || lower.starts_with("https:");
            match (element, attribute) {
                ("img", "src") => {
                    if lower.starts_with("cid:") {
                        // "cid:" is ASCII, so byte 4 is a character boundary.
                        let cid = value.trim()[4..].trim_matches(['<', '>']);
                        return inline.get(cid).map(|url| Cow::Owned(url.clone()));
                    }
                    if is_remote {
                        seen_remote.store(true, Ordering::Relaxed);
                        return Some(Cow::Borrowed(value));
                    }
                    // Raster images only: SVG can carry script and fetches.
                    let raster = ["png", "jpeg", "jpg", "gif", "webp", "bmp"]
                        .iter()
                        .any(|t| {
                            lower.starts_with(&format!("data:image/{t};"))
                                || lower.starts_with(&format!("data:image/{t},"))
                        });
                    raster.then_some(Cow::Borrowed(value))
                }
                ("a", "href") => {
                    (is_remote || lower.starts_with("mailto:")).then_some(Cow::Borrowed(value))
                }
                (_, "style") => {
                    if lower.contains("javascript:") || lower.contains("expression(") {
                        return None;
                    }
                    if (lower.contains("url(") || lower.contains("@import"))
                        && (lower.contains("http:")
                            || lower.contains("https:")
                            || lower.contains("//"))
                    {
                        seen_remote.store(true, Ordering::Relaxed);
                    }
                    Some(Cow::Borrowed(value))
                }
                _ => {
                    if is_remote {
                        seen_remote.store(true, Ordering::Relaxed);
                    }
                    Some(Cow::Borrowed(value))
                }
            }
        });
    let html = builder.clean(html).to_string();
    SafeHtml {
        html,
        remote_content: remote.load(Ordering::Relaxed),
    }
}
