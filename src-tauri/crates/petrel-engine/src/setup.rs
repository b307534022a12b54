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
                Network::with_nameserver(addr, self.shared.trust.clone(), ports, ispdb).map_err(bad)
            }
            Err(_) => {
                let mut net = Network::system(self.shared.trust.clone()).map_err(bad)?;
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
        let mut found = petrel_setup::discover(&net, email, progress).await;
        // "Sign in with …" is offered only when this build can do it.
        if let Some(p) = found.provider.as_mut() {
            p.oauth_ready = p
                .oauth
                .as_ref()
                .is_some_and(petrel_oauth::has_built_in_client);
        }
        Ok(found)
    }

    /// Refuses, before any login, to send `email`'s password to a host outside its domain
    /// (or its provider's) that the user has not confirmed by name (review H3). Hosts the
    /// user typed are confirmed by typing them.
    pub fn check_password_destinations(
        &self,
        email: &str,
        servers: &[&petrel_core::ServerSettings],
        confirmed: &[String],
    ) -> Result<(), EngineError> {
        let missing = petrel_setup::trust::unconfirmed(email, servers.iter().copied(), confirmed);
        if missing.is_empty() {
            return Ok(());
        }
        Err(EngineError::InvalidInput(format!(
            "Petrel has not sent your password to {}: {} not part of {}. Confirm {} first if you know this is your provider's.",
            missing.join(" and "),
            if missing.len() == 1 { "it is" } else { "they are" },
            petrel_setup::trust::email_domain(email),
            if missing.len() == 1 { "that server" } else { "those servers" },
        )))
    }

    /// `add_account`, after `check_password_destinations`.
    pub async fn add_confirmed_account(
        &self,
        form: petrel_core::NewAccount,
        confirmed: &[String],
    ) -> Result<petrel_core::AccountSettings, EngineError> {
        let mut servers = vec![&form.imap];
        servers.extend(form.smtp.as_ref());
        self.check_password_destinations(&form.email, &servers, confirmed)?;
        self.add_account(form).await
    }

    /// `server_quota`, after `check_password_destinations` (it logs in with the password).
    pub async fn confirmed_server_quota(
        &self,
        email: &str,
        imap: &petrel_core::ServerSettings,
        password: &str,
        confirmed: &[String],
    ) -> Result<Option<petrel_core::Quota>, EngineError> {
        self.check_password_destinations(email, &[imap], confirmed)?;
        self.server_quota(imap, password).await
    }

    /// The mailbox's storage use and limit, for the advisor: a login the user has agreed
    /// to (the server was shown to them), then GETQUOTAROOT; nothing saved. `None` when
    /// the server does not say.
    pub async fn server_quota(
        &self,
        imap: &petrel_core::ServerSettings,
        password: &str,
    ) -> Result<Option<petrel_core::Quota>, EngineError> {
        let mut session = petrel_imap::ImapSession::login(imap, password, &self.shared.trust)
            .await
            .map_err(EngineError::imap(format!("Connecting to {}", imap.host)))?;
        let quota = session
            .quota()
            .await
            .map_err(EngineError::imap("Reading the quota"))?;
        session.logout().await;
        Ok(quota)
    }

    /// Changes an account's name, address and incoming server ("Edit settings" later on):
    /// the server is tested first (login with the new password, or the one in the
    /// keychain), and only then are the settings — and a new password — saved. The
    /// connection in use is dropped so the next action uses the new server.
    pub async fn update_incoming(
        &self,
        id: &petrel_core::AccountId,
        display_name: &str,
        email: &str,
        incoming: petrel_core::ServerSettings,
        new_password: Option<String>,
    ) -> Result<petrel_core::AccountSettings, EngineError> {
        if display_name.trim().is_empty() || !email.contains('@') || incoming.host.trim().is_empty()
        {
            return Err(EngineError::InvalidInput(
                "Name, address and server are all needed.".into(),
            ));
        }
        let mut trial = self.account(id)?;
        trial.display_name = display_name.trim().to_string();
        trial.email = email.trim().to_string();
        trial.imap = incoming.normalized();
        let credential = match &new_password {
            Some(p) if !p.is_empty() => crate::account::Credential::Password(p.clone()),
            _ => {
                self.get(id)?
                    .state()
                    .credential(&self.shared, false)
                    .await?
            }
        };
        if let Some(session) =
            crate::account::Account::verify(&self.shared, &trial, &credential).await?
        {
            session.logout().await;
        }
        if let Some(p) = new_password.filter(|p| !p.is_empty()) {
            self.shared.secrets.set_password(id, &p)?;
        }
        let saved = self.update_account(id, |a| {
            a.display_name = trial.display_name.clone();
            a.email = trial.email.clone();
            a.imap = trial.imap.clone();
        })?;
        self.drop_session(id).await;
        self.retry_now(id);
        Ok(saved)
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
