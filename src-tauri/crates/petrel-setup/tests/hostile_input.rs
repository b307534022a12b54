//! Property-based tests (fixed seed; see `petrel_core::fuzz`): autoconfig XML, MX/SRV host
//! names and discovery's helpers take anything a hostile network can send without a panic,
//! and the trust rules hold for any host name.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: failing loudly is the point

use proptest::prelude::*;

fn autoconfig_xml() -> impl Strategy<Value = String> {
    let server = (
        prop_oneof!["imap", "pop3", "smtp", "[a-z]{0,6}"],
        ".{0,60}",
        "[0-9]{0,7}|.{0,8}",
        prop_oneof!["SSL", "STARTTLS", "plain", ".{0,10}"],
        prop_oneof!["%EMAILADDRESS%", "%EMAILLOCALPART%", ".{0,30}"],
    )
        .prop_map(|(kind, host, port, socket, user)| {
            let tag = if kind == "smtp" { "outgoingServer" } else { "incomingServer" };
            format!("<{tag} type=\"{kind}\"><hostname>{host}</hostname><port>{port}</port><socketType>{socket}</socketType><username>{user}</username></{tag}>")
        });
    prop_oneof![
        ".{0,500}",
        (proptest::collection::vec(server, 0..6), ".{0,40}").prop_map(|(servers, name)| format!(
            "<?xml version=\"1.0\"?><clientConfig version=\"1.1\"><emailProvider id=\"x\"><displayName>{name}</displayName>{}</emailProvider></clientConfig>",
            servers.concat()
        )),
    ]
}

proptest! {
    #![proptest_config(petrel_core::fuzz::config())]

    #[test]
    fn autoconfig_files_of_any_shape_parse_or_are_refused(xml in autoconfig_xml(), email in ".{0,40}@[a-z.]{0,20}") {
        if let Ok(found) = petrel_setup::autoconfig::parse(&xml, &email) {
            for s in [&found.imap, &found.pop3, &found.smtp].into_iter().flatten() {
                prop_assert!(!s.host.is_empty());
                prop_assert!(!s.host.contains(['\r', '\n', ' ']), "{:?}", s.host);
            }
        }
    }

    #[test]
    fn host_names_from_dns_are_handled(host in ".{0,80}", domain in "[a-z0-9.-]{0,30}") {
        let base = petrel_setup::discover::base_domain(&host);
        prop_assert!(base.len() <= host.len() + 1);
        // "within" never says yes to a name that merely ends like the domain.
        if petrel_setup::trust::within(&host, &domain) {
            let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
            let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
            let under = h == d || h.ends_with(&[".", d.as_str()].concat());
            prop_assert!(under);
        }
        let encoded = petrel_setup::discover::percent_encode(&host);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)));
    }
}

#[test]
fn report() {
    for p in ["autoconfig XML", "MX/SRV host names"] {
        petrel_core::fuzz::report(p);
    }
}
