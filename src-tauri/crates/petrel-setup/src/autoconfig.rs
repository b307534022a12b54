//! Thunderbird's autoconfig format (config-v1.1.xml), served by providers at
//! `autoconfig.<domain>` or `<domain>/.well-known/autoconfig/`, and by Mozilla's ISPDB.
//! Plain-text servers (socketType "plain") are ignored: Petrel never logs in without TLS.

use petrel_core::{Security, ServerSettings};

/// The servers of one autoconfig file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    pub imap: Option<ServerSettings>,
    pub pop3: Option<ServerSettings>,
    pub smtp: Option<ServerSettings>,
    pub display_name: Option<String>,
}

impl Found {
    pub fn has_incoming(&self) -> bool {
        self.imap.is_some() || self.pop3.is_some()
    }
}

/// Parses a config-v1.1.xml for `email`; an error in words when it is not one.
pub fn parse(xml: &str, email: &str) -> Result<Found, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not valid XML: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "clientConfig" {
        return Err(format!(
            "not an autoconfig file (root <{}>)",
            root.tag_name().name()
        ));
    }
    let provider = root
        .children()
        .find(|n| n.has_tag_name("emailProvider"))
        .ok_or("no <emailProvider>")?;
    let mut found = Found {
        display_name: child_text(provider, "displayName"),
        ..Found::default()
    };
    let mut best: [Option<(u8, ServerSettings)>; 3] = [None, None, None];
    for server in provider.children().filter(|n| n.is_element()) {
        let slot = match (server.tag_name().name(), server.attribute("type")) {
            ("incomingServer", Some("imap")) => 0,
            ("incomingServer", Some("pop3")) => 1,
            ("outgoingServer", Some("smtp")) => 2,
            _ => continue,
        };
        let Some(settings) = server_settings(server, email) else {
            continue;
        };
        // Implicit TLS first, then STARTTLS; the file's order breaks ties.
        let rank = match settings.security {
            Security::Tls => 0,
            Security::StartTls => 1,
        };
        if best[slot].as_ref().is_none_or(|(r, _)| rank < *r) {
            best[slot] = Some((rank, settings));
        }
    }
    let [imap, pop3, smtp] = best;
    found.imap = imap.map(|b| b.1);
    found.pop3 = pop3.map(|b| b.1);
    found.smtp = smtp.map(|b| b.1);
    if !found.has_incoming() {
        return Err("no incoming server with TLS in the file".into());
    }
    Ok(found)
}

fn child_text(node: roxmltree::Node, name: &str) -> Option<String> {
    node.children()
        .find(|n| n.has_tag_name(name))
        .and_then(|n| n.text())
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
}

fn server_settings(node: roxmltree::Node, email: &str) -> Option<ServerSettings> {
    let host = child_text(node, "hostname")?;
    let port: u16 = child_text(node, "port")?.parse().ok()?;
    let security = match child_text(node, "socketType")?
        .to_ascii_uppercase()
        .as_str()
    {
        "SSL" | "TLS" => Security::Tls,
        "STARTTLS" => Security::StartTls,
        _ => return None,
    };
    let (local, domain) = email.rsplit_once('@').unwrap_or((email, ""));
    let fill = |s: &str, domain: &str| {
        s.replace("%EMAILADDRESS%", email)
            .replace("%EMAILLOCALPART%", local)
            .replace("%EMAILDOMAIN%", domain)
    };
    // A host name may not carry anything a URL or a command could misread. DNS names are
    // compared without case: lower case is how they are shown, pinned and confirmed. The
    // user name keeps the case as typed (servers may see "Ana" and "ana" as two users).
    let host = fill(&host, &petrel_core::a_label(domain)).to_ascii_lowercase();
    if host.is_empty()
        || host.len() > 253
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == ':')
    {
        return None;
    }
    Some(ServerSettings {
        host,
        port,
        security,
        username: child_text(node, "username")
            .map(|u| fill(&u, domain))
            .unwrap_or_else(|| email.to_string()),
        pinned_cert_sha256: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0"?>
<clientConfig version="1.1">
  <emailProvider id="example.org">
    <domain>example.org</domain>
    <displayName>Example Mail</displayName>
    <incomingServer type="imap">
      <hostname>imap.example.org</hostname><port>143</port><socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="imap">
      <hostname>imap.example.org</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.%EMAILDOMAIN%</hostname><port>110</port><socketType>plain</socketType>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>smtp.example.org</hostname><port>587</port><socketType>STARTTLS</socketType>
      <username>%EMAILLOCALPART%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#;

    #[test]
    fn reads_servers_prefers_implicit_tls_and_skips_plain_text() {
        let f = parse(SAMPLE, "ana@example.org").unwrap();
        let imap = f.imap.unwrap();
        assert_eq!((imap.port, imap.security), (993, Security::Tls));
        assert_eq!(imap.username, "ana@example.org");
        assert!(f.pop3.is_none(), "plain-text POP3 ignored");
        let smtp = f.smtp.unwrap();
        assert_eq!(
            (smtp.host.as_str(), smtp.port, smtp.username.as_str()),
            ("smtp.example.org", 587, "ana")
        );
        assert_eq!(f.display_name.as_deref(), Some("Example Mail"));
    }

    #[test]
    fn broken_or_foreign_files_are_refused_in_words() {
        assert!(parse("<clientConfig><emailProvider>", "a@b")
            .unwrap_err()
            .contains("XML"));
        assert!(parse("<html><body>Not found</body></html>", "a@b")
            .unwrap_err()
            .contains("not an autoconfig"));
        let hostile = SAMPLE.replace("imap.example.org", "imap.example.org/../x?y");
        assert!(
            parse(&hostile, "a@b").is_err(),
            "a host name with URL characters is not used"
        );
    }

    /// Template host names are lower-cased; `%EMAILLOCALPART%` and `%EMAILADDRESS%` keep the
    /// case the user typed.
    #[test]
    fn templates_lower_case_host_names_and_keep_the_typed_user_name() {
        let xml = r#"<clientConfig version="1.1"><emailProvider id="x">
          <incomingServer type="imap"><hostname>IMAP.%EMAILDOMAIN%</hostname><port>993</port>
            <socketType>SSL</socketType><username>%EMAILLOCALPART%</username></incomingServer>
          <outgoingServer type="smtp"><hostname>smtp.%EMAILDOMAIN%</hostname><port>465</port>
            <socketType>SSL</socketType><username>%EMAILADDRESS%</username></outgoingServer>
        </emailProvider></clientConfig>"#;
        let found = parse(xml, "Ana.Smith+Lists@Example.ORG").unwrap();
        let imap = found.imap.unwrap();
        assert_eq!(imap.host, "imap.example.org");
        assert_eq!(imap.username, "Ana.Smith+Lists");
        let smtp = found.smtp.unwrap();
        assert_eq!(smtp.host, "smtp.example.org");
        assert_eq!(smtp.username, "Ana.Smith+Lists@Example.ORG");
    }
}
