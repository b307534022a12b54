//! A throw-away mail system on loopback for Petrel's tests, E2E runs and `npm run demo`.
//!
//! Each [`Harness`] is its own world: a Dovecot (IMAP, IMAPS, POP3, POP3S, submission,
//! submissions, LMTP) and a Postfix behind Dovecot's submission service, on free high ports
//! of 127.0.0.1, with a CA and server certificate made for this run, passwd-file users and
//! Maildirs in a fresh temporary directory. Mail submitted as one user is relayed by Postfix
//! and delivered over LMTP into the other user's Maildir, so it shows up over IMAP and POP3.
//! Dropping the harness stops both servers and deletes the directory.
//!
//! Needs root (Dovecot's master drops privileges to `dovenull`/`dovecot`/`mail`; Postfix runs
//! its daemons as `postfix`) and the Debian packages installed by `scripts/install-deps.sh`.

mod certs;
mod config;
mod memory_secrets;
mod oidc;
mod proxy;
mod scripted_pop3;
mod scripted_smtp;

pub use memory_secrets::MemorySecrets;
pub use oidc::{browser_command, Oidc, OidcOptions, CLIENT_ID as OIDC_CLIENT_ID};
pub use proxy::Proxy;
pub use scripted_pop3::ScriptedPop3;
pub use scripted_smtp::{endless_greeting, ScriptedSmtp};

/// Adds `folder` (and its parents) to Dovecot's Maildir `subscriptions` file, as a client
/// that created them would have: most clients show only subscribed folders.
fn subscribe(maildir: &Path, folder: &str) -> Result<()> {
    let file = maildir.join("subscriptions");
    let mut names: Vec<String> = std::fs::read_to_string(&file)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    // Maildir++ names: the storage separator is ".", whatever the namespace shows.
    let mut path = String::new();
    for part in folder.split('/') {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(part);
        if !names.contains(&path) {
            names.push(path.clone());
        }
    }
    std::fs::write(&file, names.join("\n") + "\n").map_err(io("writing subscriptions"))
}

/// A CA and a `localhost`/127.0.0.1 server certificate, PEM: for scripted TLS servers in
/// fault tests (hostile replies a real Dovecot never sends).
#[derive(Debug, Clone)]
pub struct TestCertificates {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
    /// SHA-256 of the server certificate (DER), hex: to pin it instead of trusting the CA.
    pub cert_sha256: String,
}

/// A TLS acceptor presenting `certs`' server certificate: for scripted servers.
pub(crate) fn tls_acceptor(certs: &TestCertificates) -> Result<tokio_rustls::TlsAcceptor> {
    let setup = |e: String| HarnessError::Setup(format!("scripted server TLS: {e}"));
    let chain = rustls_pemfile::certs(&mut certs.cert_pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| setup(e.to_string()))?;
    let key = rustls_pemfile::private_key(&mut certs.key_pem.as_bytes())
        .map_err(|e| setup(e.to_string()))?
        .ok_or_else(|| setup("no key".into()))?;
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| setup(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|e| setup(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

pub fn test_certificates() -> Result<TestCertificates> {
    let c = certs::generate().map_err(HarnessError::Setup)?;
    Ok(TestCertificates {
        ca_pem: c.ca_pem,
        cert_pem: c.leaf_pem,
        key_pem: c.leaf_key_pem,
        cert_sha256: c.leaf_sha256,
    })
}

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// Uid/gid owning the test Maildirs: Debian's `mail` user. Dovecot refuses uid 0 for mail.
const MAIL_UID: u32 = 8;
/// How long the servers may take to open their ports.
const START_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Setup(String),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let context = context.into();
    move |source| HarnessError::Io { context, source }
}

pub type Result<T> = std::result::Result<T, HarnessError>;

/// Loopback ports of one harness.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Ports {
    pub imap: u16,
    pub imaps: u16,
    pub pop3: u16,
    pub pop3s: u16,
    pub submission: u16,
    pub submissions: u16,
    pub lmtp: u16,
    /// Postfix's SMTP listener that Dovecot's submission relays to.
    pub smtp: u16,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    /// Login name and address (the same here).
    pub login: String,
    pub password: String,
    #[serde(skip)]
    pub maildir: PathBuf,
}

pub struct Harness {
    /// Dovecot creates Drafts, Sent, Trash, Junk and Archive by itself (`auto = subscribe`).
    auto_folders: bool,
    dir: tempdir::TempDir,
    pub ports: Ports,
    pub users: Vec<User>,
    ca_pem: String,
    leaf_sha256: String,
    dovecot: Option<Child>,
    postfix_running: bool,
    /// Cleans up if this process dies without dropping the harness (killed test, statics).
    guard: Option<Child>,
    /// The OpenID Connect provider whose access tokens Dovecot accepts (sign-in tests).
    pub oidc: Option<Oidc>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("dir", &self.dir.path())
            .field("ports", &self.ports)
            .finish()
    }
}

/// The users every harness has; passwords are random per run.
pub const USER_NAMES: [&str; 2] = ["alice", "bob"];
pub const DOMAIN: &str = "example.test";

impl Harness {
    /// Starts Dovecot and Postfix; retries with new ports if another process took one.
    pub fn start() -> Result<Harness> {
        Self::start_with(true, None)
    }

    /// As `start`, for a benchmark: with `PETREL_BENCH_PIN` set the servers run on CPU 0 and
    /// this process (Petrel and the baseline it is measured against) on the other CPUs, so
    /// neither side competes with the server for a CPU, as against a server on another
    /// machine. On a 2-core box the scheduler otherwise puts the client's threads and
    /// Dovecot's `imap` and TLS proxy wherever one is free, and a client's every CPU-second
    /// can delay the server (README, "Benchmarks"). Processes inherit their parent's CPUs,
    /// so the servers keep CPU 0 for the run.
    pub fn start_for_bench() -> Result<Harness> {
        if std::env::var_os("PETREL_BENCH_PIN").is_none() {
            return Self::start();
        }
        let rest = match std::thread::available_parallelism().map_or(1, usize::from) {
            0 | 1 => {
                return Err(HarnessError::Setup(
                    "PETREL_BENCH_PIN needs at least 2 CPUs".into(),
                ))
            }
            2 => "1".to_string(),
            n => format!("1-{}", n - 1),
        };
        pin_this_process("0")?;
        let harness = Self::start()?;
        pin_this_process(&rest)?;
        eprintln!("pinned: the servers on CPU 0, this benchmark on CPU {rest}");
        Ok(harness)
    }

    /// As `start`, with a real OpenID Connect provider on loopback whose access tokens
    /// Dovecot accepts for IMAP, POP3 and submission (OAUTHBEARER, XOAUTH2); passwords work
    /// as before.
    pub fn start_with_oidc(options: OidcOptions) -> Result<Harness> {
        Self::start_with(true, Some(options))
    }

    /// As `start`, with Dovecot's default of creating no folder on its own (`auto = no`):
    /// a fresh account has only INBOX; Trash, Sent… appear once a client creates them
    /// (and then carry their SPECIAL-USE role).
    pub fn start_bare() -> Result<Harness> {
        Self::start_with(false, None)
    }

    fn start_with(auto_folders: bool, oidc: Option<OidcOptions>) -> Result<Harness> {
        if !is_root() {
            return Err(HarnessError::Setup(
                "the mail-server harness must run as root (Dovecot and Postfix drop privileges themselves); run `npm test` as root or with sudo".into(),
            ));
        }
        let mut last = None;
        for _ in 0..3 {
            match Self::start_once(auto_folders, oidc) {
                Ok(h) => return Ok(h),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| HarnessError::Setup("harness did not start".into())))
    }

    fn start_once(auto_folders: bool, oidc: Option<OidcOptions>) -> Result<Harness> {
        let dir = tempdir::TempDir::new()?;
        let ports = free_ports()?;
        let certs = certs::generate().map_err(HarnessError::Setup)?;
        let users: Vec<User> = USER_NAMES
            .iter()
            .map(|name| User {
                login: format!("{name}@{DOMAIN}"),
                password: random_hex(12),
                maildir: dir.path().join("mail").join(name).join("Maildir"),
            })
            .collect();
        let mut harness = Harness {
            auto_folders,
            ports,
            users,
            ca_pem: certs.ca_pem.clone(),
            leaf_sha256: certs.leaf_sha256.clone(),
            dovecot: None,
            postfix_running: false,
            guard: None,
            oidc: oidc.map(Oidc::start).transpose()?,
            dir,
        };
        config::write_all(&harness, &certs)?;
        for user in &harness.users {
            for sub in ["cur", "new", "tmp"] {
                std::fs::create_dir_all(user.maildir.join(sub))
                    .map_err(io("creating a Maildir"))?;
            }
        }
        chown_tree(&harness.dir.path().join("mail"))?;
        harness.start_servers()?;
        Ok(harness)
    }

    fn start_servers(&mut self) -> Result<()> {
        let conf = self.dir.path().join("dovecot.conf");
        let log = std::fs::File::create(self.dir.path().join("dovecot.stderr"))
            .map_err(io("creating the Dovecot log"))?;
        let child = Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(io("starting dovecot (is dovecot-imapd installed?)"))?;
        self.dovecot = Some(child);
        let out = Command::new("postfix")
            .arg("-c")
            .arg(self.dir.path().join("postfix/conf"))
            .arg("start")
            .stdin(Stdio::null())
            .output()
            .map_err(io("starting postfix (is postfix installed?)"))?;
        if !out.status.success() {
            return Err(HarnessError::Setup(format!(
                "postfix failed to start: {}{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(self.dir.path().join("postfix/maillog"))
                    .unwrap_or_default()
            )));
        }
        self.postfix_running = true;
        self.guard = Some(self.spawn_guard()?);
        let p = self.ports;
        for port in [
            p.imap,
            p.imaps,
            p.pop3,
            p.pop3s,
            p.submission,
            p.submissions,
            p.lmtp,
            p.smtp,
        ] {
            self.wait_for_port(port)?;
        }
        Ok(())
    }

    /// A shell that waits for this process to end and then stops the servers, so a test
    /// killed mid-run (or a harness kept in a static) never leaves Dovecot and Postfix behind.
    /// It waits for Dovecot to exit (a zombie counts as gone) before deleting the directory.
    fn spawn_guard(&self) -> Result<Child> {
        let dovecot = self.dovecot.as_ref().map(|c| c.id()).unwrap_or(0);
        let dir = self.dir.path().display().to_string();
        let remove = if std::env::var_os("PETREL_KEEP_HARNESS").is_some() {
            String::new()
        } else {
            format!("rm -rf '{dir}'")
        };
        let script = format!(
            "while kill -0 {parent} 2>/dev/null; do sleep 0.5; done; postfix -c '{dir}/postfix/conf' stop >/dev/null 2>&1; kill {dovecot} 2>/dev/null; \
             for i in $(seq 50); do grep -qs '^State:[[:space:]]*[^Z]' /proc/{dovecot}/status || break; sleep 0.2; done; {remove}",
            parent = std::process::id(),
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io("starting the harness guard"))
    }

    fn wait_for_port(&mut self, port: u16) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            if let Some(child) = self.dovecot.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(HarnessError::Setup(format!(
                        "dovecot exited ({status}): {}",
                        std::fs::read_to_string(self.dir.path().join("dovecot.stderr"))
                            .unwrap_or_default()
                    )));
                }
            }
            if Instant::now() > deadline {
                return Err(HarnessError::Setup(format!(
                    "port {port} did not open within {START_TIMEOUT:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// PEM of this run's CA: trust it to verify the servers' certificate.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }

    /// SHA-256 (lower-case hex) of the server certificate, as a user would pin it.
    pub fn server_cert_sha256(&self) -> &str {
        &self.leaf_sha256
    }

    pub fn user(&self, name: &str) -> &User {
        self.users
            .iter()
            .find(|u| u.login.split('@').next() == Some(name))
            .unwrap_or_else(|| panic!("harness has no user {name}; it has {USER_NAMES:?}"))
    }

    /// Drops messages straight into `user`'s Maildir folder (`INBOX` or e.g. `Work/2026`),
    /// faster than APPEND. Dovecot notices them on its next look. Returns the file names.
    pub fn seed(
        &self,
        name: &str,
        folder: &str,
        messages: &[Vec<u8>],
        seen: bool,
    ) -> Result<Vec<String>> {
        self.seed_generated(name, folder, messages.len(), |i| messages[i].clone(), seen)
    }

    /// As [`Harness::seed`], with `count` messages made one at a time by `make(i)`: a
    /// 100k-message folder never has to be in memory at once.
    pub fn seed_generated(
        &self,
        name: &str,
        folder: &str,
        count: usize,
        make: impl Fn(usize) -> Vec<u8>,
        seen: bool,
    ) -> Result<Vec<String>> {
        static SEEDED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let user = self.user(name);
        let folder_dir = if folder.eq_ignore_ascii_case("INBOX") {
            user.maildir.clone()
        } else {
            // Maildir++ layout: "Work/2026" is stored as ".Work.2026".
            user.maildir.join(format!(".{}", folder.replace('/', ".")))
        };
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(folder_dir.join(sub))
                .map_err(io("creating a Maildir folder"))?;
        }
        let mut names = Vec::with_capacity(count);
        let base = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        for i in 0..count {
            // Unique across calls in the same second (a counter, not the index).
            let n = SEEDED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let unique = format!("{base}.P{}Q{n}.petrel-harness", std::process::id());
            let (sub, name) = if seen {
                ("cur", format!("{unique}:2,S"))
            } else {
                ("new", unique)
            };
            let tmp = folder_dir.join("tmp").join(&name);
            std::fs::File::create(&tmp)
                .and_then(|mut f| f.write_all(&make(i)))
                .map_err(io("writing a seeded message"))?;
            std::fs::rename(&tmp, folder_dir.join(sub).join(&name))
                .map_err(io("delivering a seeded message"))?;
            names.push(name);
        }
        if !folder.eq_ignore_ascii_case("INBOX") {
            subscribe(&user.maildir, folder)?;
        }
        chown_tree(&user.maildir)?;
        Ok(names)
    }

    /// Seeds every `*.eml` file of `dir` (sorted by name) into `folder`.
    pub fn seed_eml_dir(&self, name: &str, folder: &str, dir: &Path) -> Result<usize> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io(format!("reading {}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        files.sort();
        let messages = files
            .iter()
            .map(|p| std::fs::read(p).map_err(io(format!("reading {}", p.display()))))
            .collect::<Result<Vec<_>>>()?;
        self.seed(name, folder, &messages, false)?;
        Ok(messages.len())
    }

    /// Runs `doveadm` against this harness's Dovecot: an independent client of the same mail
    /// store, for checking what Petrel did and for making changes "from another device".
    /// `user` is a harness user name such as "alice".
    /// `command` is one or two words (`["expunge"]`, `["flags", "add"]`).
    pub fn doveadm(&self, user: &str, command: &[&str], args: &[&str]) -> Result<String> {
        let out = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .args(command)
            .arg("-u")
            .arg(&self.user(user).login)
            .args(args)
            .output()
            .map_err(io("running doveadm"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(HarnessError::Setup(format!(
                "doveadm {command:?} {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    }

    /// Appends a message to `folder` through Dovecot (`doveadm save`), as another client
    /// would. Unlike [`Harness::seed`], Dovecot learns of it at once, so a client that has
    /// just synced sees it on its next look even within the same second.
    pub fn append(&self, user: &str, folder: &str, raw: &[u8]) -> Result<()> {
        let mut child = Command::new("doveadm")
            .arg("-c")
            .arg(self.dir.path().join("dovecot.conf"))
            .args(["save", "-u", &self.user(user).login, "-m", folder])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io("running doveadm save"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(raw)
                .map_err(io("writing to doveadm save"))?;
        }
        let out = child
            .wait_with_output()
            .map_err(io("waiting for doveadm save"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(HarnessError::Setup(format!(
                "doveadm save failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )))
        }
    }

    /// Switches Dovecot's POP3 UIDL format (as a server migration would change every UIDL)
    /// and reloads the configuration; new POP3 sessions use it.
    pub fn set_pop3_uidl_format(&self, format: &str) -> Result<()> {
        let conf = self.dir.path().join("dovecot.conf");
        let text = std::fs::read_to_string(&conf).map_err(io("reading dovecot.conf"))?;
        let changed: String = text
            .lines()
            .map(|l| {
                if l.trim_start().starts_with("pop3_uidl_format") {
                    format!("  pop3_uidl_format = {format}")
                } else {
                    l.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        std::fs::write(&conf, changed + "\n").map_err(io("writing dovecot.conf"))?;
        let out = Command::new("doveadm")
            .arg("-c")
            .arg(&conf)
            .arg("reload")
            .output()
            .map_err(io("running doveadm reload"))?;
        if !out.status.success() {
            return Err(HarnessError::Setup(format!(
                "doveadm reload failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        // The reload is asynchronous; new logins after this point get the new settings.
        std::thread::sleep(std::time::Duration::from_millis(500));
        Ok(())
    }

    /// Messages currently in `user`'s INBOX on disk (delivered mail lands here).
    pub fn inbox_files(&self, name: &str) -> Vec<PathBuf> {
        let user = self.user(name);
        ["new", "cur"]
            .iter()
            .flat_map(|sub| {
                std::fs::read_dir(user.maildir.join(sub))
                    .into_iter()
                    .flatten()
            })
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect()
    }

    /// Stops both servers. Called by `Drop`; safe to call twice.
    pub fn stop(&mut self) {
        // The guard goes first: once the servers are gone their pids may be reused.
        if let Some(mut guard) = self.guard.take() {
            let _ = guard.kill();
            let _ = guard.wait();
        }
        if self.postfix_running {
            let _ = Command::new("postfix")
                .arg("-c")
                .arg(self.dir.path().join("postfix/conf"))
                .arg("stop")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            self.postfix_running = false;
        }
        if let Some(mut child) = self.dovecot.take() {
            // SIGTERM lets the master stop its children; SIGKILL would orphan them.
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut exited = false;
            while !exited && Instant::now() < deadline {
                exited = matches!(child.try_wait(), Ok(Some(_)));
                if !exited {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            if !exited {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        // Connections already handed to imap/pop3 processes must drop too, so "the server is
        // gone" means gone. Their titles carry this instance's name.
        let instance = self
            .dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !instance.is_empty() {
            let _ = Command::new("pkill")
                .arg("-KILL")
                .arg("-f")
                .arg(format!("^dovecot-{instance}/"))
                .status();
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One harness shared by the tests of a test binary that run at the same time; it stops
/// when the last of them drops its handle. `seed` runs once per started harness.
pub fn shared(seed: impl FnOnce(&Harness)) -> Arc<Harness> {
    static SHARED: Mutex<Weak<Harness>> = Mutex::new(Weak::new());
    let mut slot = SHARED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(h) = slot.upgrade() {
        return h;
    }
    let h = Arc::new(
        Harness::start().unwrap_or_else(|e| panic!("the mail-server harness did not start: {e}")),
    );
    seed(&h);
    *slot = Arc::downgrade(&h);
    h
}

/// Moves every thread of this process to `cpus` (a `taskset` list such as `0` or `1-3`);
/// threads and processes started later inherit it.
fn pin_this_process(cpus: &str) -> Result<()> {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", cpus, &std::process::id().to_string()])
        .stdout(Stdio::null())
        .status()
        .map_err(io("running taskset (util-linux)"))?;
    if !status.success() {
        return Err(HarnessError::Setup(format!("taskset -c {cpus}: {status}")));
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_ports() -> Result<Ports> {
    // Hold all listeners at once so the eight ports differ from each other.
    let listeners = (0..8)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io("finding free ports"))?;
    let p = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io("finding free ports"))?;
    Ok(Ports {
        imap: p[0],
        imaps: p[1],
        pop3: p[2],
        pop3s: p[3],
        submission: p[4],
        submissions: p[5],
        lmtp: p[6],
        smtp: p[7],
    })
}

pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut buf);
    }
    hex::encode(buf)
}

fn chown_tree(path: &Path) -> Result<()> {
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{MAIL_UID}:{MAIL_UID}"))
        .arg(path)
        .status()
        .map_err(io("chown of the Maildir"))?;
    if status.success() {
        Ok(())
    } else {
        Err(HarnessError::Setup(format!(
            "chown -R mail {} failed",
            path.display()
        )))
    }
}

mod tempdir {
    //! A 0755 temporary directory with a short path: Dovecot's unprivileged login processes
    //! must traverse it, and unix socket paths are limited to 108 bytes.
    use super::{io, Result};
    use std::path::{Path, PathBuf};

    pub struct TempDir(PathBuf);

    impl TempDir {
        pub fn new() -> Result<TempDir> {
            for _ in 0..16 {
                let path = std::env::temp_dir().join(format!("petrel-h-{}", super::random_hex(4)));
                match std::fs::create_dir(&path) {
                    Ok(()) => {
                        use std::os::unix::fs::PermissionsExt;
                        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                            .map_err(io("chmod of the harness dir"))?;
                        return Ok(TempDir(path));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(io("creating the harness dir")(e)),
                }
            }
            Err(super::HarnessError::Setup("no free temp dir name".into()))
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            if std::env::var_os("PETREL_KEEP_HARNESS").is_none() {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
