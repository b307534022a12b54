//! The setup wizard's calls: discovery of an address's settings (with progress) and the
//! POP3-or-IMAP advice. Verification and saving are `add_account` (incoming server and
//! SMTP, then the keychain, then the settings file).

use crate::{Engine, EngineError};
use petrel_core::{
    Advice, AdvisorAnswers, Discovery, ProviderNotes, ServerEvidence, SetupProgress,
};
use petrel_setup::{Network, PortPlan};

impl Engine {
    /// The network discovery uses: the system's resolver and the standard ports, unless
    /// the environment points it elsewhere (tests and demos on loopback):
    /// `PETREL_SETUP_DNS=127.0.0.1:5353`, `PETREL_SETUP_PORTS=imaps=1993,pop3s=1995,…`
    /// (names as in `PortPlan`), `PETREL_SETUP_ISPDB=https://…/v1.1/`.
    fn setup_network(&self) -> Result<Network, EngineError> {
        let bad = |e: String| EngineError::InvalidInput(e);
        let ispdb = std::env::var("PETREL_SETUP_ISPDB")
            .unwrap_or_else(|_| petrel_setup::network::ISPDB.to_string());
        let mut ports = PortPlan::default();
        if let Ok(spec) = std::env::var("PETREL_SETUP_PORTS") {
            for pair in spec.split(',').filter(|p| !p.is_empty()) {
                let (name, value) = pair
                    .split_once('=')
                    .ok_or_else(|| bad(format!("PETREL_SETUP_PORTS: {pair}")))?;
                let port: u16 = value
                    .trim()
                    .parse()
                    .map_err(|_| bad(format!("PETREL_SETUP_PORTS: {pair}")))?;
                match name.trim() {
                    "http" => ports.http = port,
                    "https" => ports.https = port,
                    "imaps" => ports.imaps = port,
                    "imap" => ports.imap = port,
                    "pop3s" => ports.pop3s = port,
                    "pop3" => ports.pop3 = port,
                    "submissions" => ports.submissions = port,
                    "submission" => ports.submission = port,
                    other => {
                        return Err(bad(format!("PETREL_SETUP_PORTS: unknown service {other}")))
                    }
                }
            }
        }
        match std::env::var("PETREL_SETUP_DNS") {
            Ok(server) => {
                let addr = server
                    .parse()
                    .map_err(|_| bad(format!("PETREL_SETUP_DNS: {server}")))?;
                Network::with_nameserver(addr, self.trust.clone(), ports, ispdb).map_err(bad)
            }
            Err(_) => {
                let mut net = Network::system(self.trust.clone()).map_err(bad)?;
                net.ports = ports;
                net.ispdb = ispdb;
                Ok(net)
            }
        }
    }

    /// Finds the settings for `email`; `progress` hears which source is being tried.
    pub async fn discover(
        &self,
        email: &str,
        progress: &(dyn Fn(SetupProgress) + Send + Sync),
    ) -> Result<Discovery, EngineError> {
        if !email.contains('@') {
            return Err(EngineError::InvalidInput(
                "Enter your whole email address (name@example.org).".into(),
            ));
        }
        let net = self.setup_network()?;
        Ok(petrel_setup::discover(&net, email, progress).await)
    }

    /// The connection doctor's log as text, with the address and credentials redacted.
    pub fn export_setup_log(&self, lines: &[petrel_core::DoctorLine], email: &str) -> String {
        petrel_setup::doctor::export(lines, email)
    }

    /// The POP3-or-IMAP recommendation for these answers and what the servers said.
    pub fn advise(
        &self,
        answers: &AdvisorAnswers,
        evidence: &ServerEvidence,
        provider: Option<&ProviderNotes>,
    ) -> Advice {
        petrel_setup::advisor::advise(answers, evidence, provider)
    }
}
