//! Whom the password may go to (review H3; RFC 6186 §6, draft-ietf-mailmaint-autoconfig).
//!
//! A discovery source is *authenticated* when what it says cannot be changed by someone on
//! the network path: Petrel's own provider table, an autoconfig file fetched over HTTPS
//! from the address's own domain, Mozilla's ISPDB over HTTPS, and probes of the usual names
//! under the address's domain (their TLS certificate vouches for the host). Anything over
//! plain HTTP, anything derived from the MX record, and SRV records (no DNSSEC here) are
//! not.
//!
//! The password goes without a question only to hosts under the address's domain, or under
//! the domains of the provider-table entry for that domain. Every other host — and, from an
//! unauthenticated source, every host outside the address's domain — is confirmed by the
//! user by name first. Hosts the user typed count as confirmed.

use petrel_core::{ServerSettings, SettingsSource};

/// Whether `host` is `domain` or a name under it (label-wise: "evilexample.com" is not
/// under "example.com").
pub fn within(host: &str, domain: &str) -> bool {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}")))
}

/// Whether a source cannot be changed on the network path (see the module notes).
/// `https`: the file was fetched over HTTPS (autoconfig, .well-known, ISPDB).
pub fn authenticated(source: SettingsSource, https: bool) -> bool {
    match source {
        SettingsSource::ProviderTable | SettingsSource::Probe | SettingsSource::Manual => true,
        SettingsSource::Autoconfig | SettingsSource::WellKnown | SettingsSource::Ispdb => https,
        SettingsSource::MxDomain | SettingsSource::Srv => false,
    }
}

/// Domains whose hosts may get the password of `email` without a question: its own, and
/// the provider-table entry's for it (its domains and the domains of its servers).
pub fn vouched_domains(email: &str) -> Vec<String> {
    let domain = email_domain(email);
    let mut out = vec![domain.clone()];
    if let Some(p) = crate::providers::by_domain(&domain) {
        out.extend(p.domains.iter().map(|d| d.to_ascii_lowercase()));
        for s in [&p.imap, &p.pop3, &p.smtp].into_iter().flatten() {
            out.push(crate::discover::base_domain(&s.host));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The address's domain as DNS knows it: its A-label, so "ana@Bücher.test" owns the
/// hosts under "xn--bcher-kva.test" (RFC 5891).
pub fn email_domain(email: &str) -> String {
    email
        .trim()
        .rsplit_once('@')
        .map(|(_, d)| petrel_core::a_label(d.trim().trim_end_matches('.')))
        .unwrap_or_default()
}

/// The hosts of `servers` the user must confirm by name before any login: outside the
/// address's domain, and — unless the source is authenticated — outside the vouched
/// provider domains too. In the order given, each once.
pub fn hosts_to_confirm<'a>(
    email: &str,
    servers: impl IntoIterator<Item = &'a ServerSettings>,
    authenticated: bool,
) -> Vec<String> {
    let own = email_domain(email);
    let vouched = vouched_domains(email);
    let mut out: Vec<String> = Vec::new();
    for s in servers {
        let host = s.host.trim().trim_end_matches('.').to_ascii_lowercase();
        let ok = within(&host, &own) || (authenticated && vouched.iter().any(|d| within(&host, d)));
        if !ok && !out.contains(&host) {
            out.push(host);
        }
    }
    out
}

/// The hosts among `servers` that need the user's confirmation and did not get it. Used
/// before every login with a password during setup (the quota look-up included).
pub fn unconfirmed<'a>(
    email: &str,
    servers: impl IntoIterator<Item = &'a ServerSettings>,
    confirmed: &[String],
) -> Vec<String> {
    // Only the provider table vouches here: what discovery said is not trusted twice.
    hosts_to_confirm(email, servers, true)
        .into_iter()
        .filter(|h| !confirmed.iter().any(|c| c.trim().eq_ignore_ascii_case(h)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use petrel_core::Security;

    fn server(host: &str) -> ServerSettings {
        ServerSettings {
            host: host.into(),
            port: 993,
            security: Security::Tls,
            username: "u".into(),
            pinned_cert_sha256: None,
        }
    }

    #[test]
    fn a_unicode_address_domain_owns_its_a_label_hosts() {
        // RFC 5891: "Bücher.test" and "xn--bcher-kva.test" are one domain.
        let s = server("imap.xn--bcher-kva.test");
        assert!(hosts_to_confirm("ana@Bücher.test", [&s], false).is_empty());
        assert!(unconfirmed("ana@Bücher.test", [&s], &[]).is_empty());
        let other = server("imap.xn--bchr-0ra.test");
        assert_eq!(
            hosts_to_confirm("ana@Bücher.test", [&other], true),
            ["imap.xn--bchr-0ra.test"]
        );
    }

    #[test]
    fn hosts_outside_the_domain_need_a_yes() {
        assert!(within("imap.example.com", "example.com"));
        assert!(within("Example.COM.", "example.com"));
        assert!(!within("evilexample.com", "example.com"));
        assert!(!within("example.com.evil.net", "example.com"));
        let own = [server("imap.example.com"), server("smtp.example.com")];
        assert!(hosts_to_confirm("a@example.com", &own, false).is_empty());
        let foreign = [
            server("imap.mail-example.net"),
            server("smtp.mail-example.net"),
            server("imap.mail-example.net"),
        ];
        assert_eq!(
            hosts_to_confirm("a@example.com", &foreign, true),
            ["imap.mail-example.net", "smtp.mail-example.net"]
        );
        // The provider table vouches for its own servers: Gmail's hosts for a Gmail address.
        let gmail = [server("imap.gmail.com"), server("smtp.gmail.com")];
        assert!(hosts_to_confirm("a@gmail.com", &gmail, true).is_empty());
        assert_eq!(hosts_to_confirm("a@custom.example", &gmail, true).len(), 2);
        assert!(
            unconfirmed("a@example.com", &foreign, &["IMAP.mail-example.net".into()])
                .contains(&"smtp.mail-example.net".to_string())
        );
        assert!(unconfirmed(
            "a@example.com",
            &foreign[..1],
            &["imap.mail-example.net".into()]
        )
        .is_empty());
    }

    #[test]
    fn which_sources_are_authenticated() {
        assert!(authenticated(SettingsSource::ProviderTable, false));
        assert!(authenticated(SettingsSource::Autoconfig, true));
        assert!(!authenticated(SettingsSource::Autoconfig, false));
        assert!(!authenticated(SettingsSource::MxDomain, true));
        assert!(!authenticated(SettingsSource::Srv, true));
    }
}
