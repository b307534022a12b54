//! One Petrel per configuration directory (review M2). Two engines on one config dir
//! would both flush the outbox (double sends), both download POP3 mail (duplicates) and
//! race on `accounts.json` and the pending queue. The running engine holds an OS advisory
//! lock on `petrel.lock` (flock / LockFileEx through std); the command-line tools take the
//! same lock. A second app launch does not start a second engine: it hands its arguments
//! (a `mailto:` link, an `.eml` file) to the running one over loopback and exits.
//!
//! The hand-over: the running app listens on 127.0.0.1 (random port) and writes the port
//! and a random token to `petrel.handoff` (0600); a second launch sends the token and its
//! arguments as one JSON line. Other local users cannot read the token.

use crate::EngineError;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

const LOCK_FILE: &str = "petrel.lock";
const HANDOFF_FILE: &str = "petrel.handoff";
/// Arguments are a few links or file names: more is not a hand-over.
const MAX_HANDOFF_BYTES: u64 = 64 * 1024;

/// Held while this process owns the config dir; dropping it (or exiting) releases it.
#[derive(Debug)]
pub struct InstanceLock {
    _file: File,
    dir: PathBuf,
}

impl InstanceLock {
    /// Takes the config dir, or says that another Petrel has it.
    pub fn acquire(config_dir: &Path) -> Result<InstanceLock, EngineError> {
        create_private_dir(config_dir)?;
        let path = config_dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| EngineError::Storage {
                context: format!("Opening {}", path.display()),
                source,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(InstanceLock {
                _file: file,
                dir: config_dir.to_path_buf(),
            }),
            Err(std::fs::TryLockError::WouldBlock) => Err(EngineError::AlreadyRunning {
                dir: config_dir.display().to_string(),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(EngineError::Storage {
                context: format!("Locking {}", path.display()),
                source,
            }),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// The config and data directories hold mail that exists nowhere else and the outbox:
/// readable by this user only (review L2), wherever home directories are 0755.
pub fn create_private_dir(dir: &Path) -> Result<(), EngineError> {
    let storage = |source| EngineError::Storage {
        context: format!("Creating {}", dir.display()),
        source,
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(storage)?;
        }
        let mode = std::fs::metadata(dir)
            .map_err(storage)?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(storage)?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(storage)?;
    Ok(())
}

/// Where a running app takes arguments from later launches.
pub struct HandoffListener {
    listener: std::net::TcpListener,
    token: String,
}

impl HandoffListener {
    /// Listens on loopback and publishes port and token in the (locked) config dir.
    pub fn open(lock: &InstanceLock) -> Result<HandoffListener, EngineError> {
        let storage = |source| EngineError::Storage {
            context: "Listening for other Petrel launches".into(),
            source,
        };
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).map_err(storage)?;
        let port = listener.local_addr().map_err(storage)?.port();
        let token = random_token();
        let path = lock.dir().join(HANDOFF_FILE);
        let _ = std::fs::remove_file(&path);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(&path).map_err(storage)?;
        writeln!(file, "{port} {token}").map_err(storage)?;
        Ok(HandoffListener { listener, token })
    }

    /// Waits for the next launch's arguments (blocking: run it on its own thread). Lines
    /// without the token are ignored.
    pub fn next(&self) -> Option<Vec<String>> {
        loop {
            let (stream, _) = self.listener.accept().ok()?;
            let mut line = String::new();
            let mut reader = BufReader::new(std::io::Read::take(&stream, MAX_HANDOFF_BYTES));
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let Ok(message) = serde_json::from_str::<Handoff>(line.trim_end()) else {
                continue;
            };
            if message.token == self.token {
                return Some(message.args);
            }
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Handoff {
    token: String,
    args: Vec<String>,
}

/// Hands `args` to the Petrel running on `config_dir`; Ok when it took them.
pub fn hand_over(config_dir: &Path, args: &[String]) -> Result<(), EngineError> {
    let storage = |source| EngineError::Storage {
        context: "Handing over to the running Petrel".into(),
        source,
    };
    let published = std::fs::read_to_string(config_dir.join(HANDOFF_FILE)).map_err(storage)?;
    let (port, token) = published.trim().split_once(' ').ok_or_else(|| {
        EngineError::InvalidInput("the running Petrel published no address".into())
    })?;
    let port: u16 = port
        .parse()
        .map_err(|_| EngineError::InvalidInput("the running Petrel published a bad port".into()))?;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(storage)?;
    let line = serde_json::to_string(&Handoff {
        token: token.to_string(),
        args: args.to_vec(),
    })
    .map_err(|e| storage(std::io::Error::other(e)))?;
    stream.write_all(line.as_bytes()).map_err(storage)?;
    stream.write_all(b"\n").map_err(storage)?;
    Ok(())
}

fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    // Two independently seeded SipHash states (std seeds them from the OS) mixed with the
    // time and pid: unguessable for another local user who cannot read the 0600 file.
    let mut out = String::new();
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_instance_per_config_dir_and_arguments_reach_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("petrel");
        let lock = InstanceLock::acquire(&config).unwrap();
        assert!(matches!(
            InstanceLock::acquire(&config),
            Err(EngineError::AlreadyRunning { .. })
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&config).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "the config dir is private");
        }
        let listener = HandoffListener::open(&lock).unwrap();
        let args = vec!["mailto:bob@example.org?subject=Hi".to_string()];
        let sent = args.clone();
        let (cfg, t) = (config.clone(), std::thread::spawn(move || listener.next()));
        hand_over(&cfg, &sent).unwrap();
        assert_eq!(t.join().unwrap(), Some(args));
        drop(lock);
        assert!(InstanceLock::acquire(&config).is_ok(), "released on exit");
    }

    #[test]
    fn a_launch_without_the_token_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let lock = InstanceLock::acquire(dir.path()).unwrap();
        let listener = HandoffListener::open(&lock).unwrap();
        let t = std::thread::spawn(move || listener.next());
        let published = std::fs::read_to_string(dir.path().join(HANDOFF_FILE)).unwrap();
        let port: u16 = published
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"{\"token\":\"guess\",\"args\":[\"evil\"]}\n")
            .unwrap();
        drop(s);
        hand_over(dir.path(), &["good".into()]).unwrap();
        assert_eq!(t.join().unwrap(), Some(vec!["good".to_string()]));
    }
}
