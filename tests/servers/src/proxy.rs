//! A TCP relay between a client under test and the harness's servers, for the faults a real
//! server does not produce on demand: the network going away (`set_up(false)` refuses new
//! connections and cuts the open ones) and connections cut after a chosen number of bytes
//! (`cut_after`), in the middle of whatever was being said.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Shared {
    up: AtomicBool,
    /// Bytes (both directions) each new connection may carry before it is cut; 0 = no limit.
    budget: AtomicU64,
    stopping: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
    connections: AtomicU64,
    /// Bytes relayed so far, both directions, all connections.
    bytes: AtomicU64,
}

pub struct Proxy {
    pub port: u16,
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl Proxy {
    /// Listens on a free loopback port and relays to `127.0.0.1:target_port`.
    pub fn start(target_port: u16) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        shared.up.store(true, Ordering::SeqCst);
        let s = shared.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                if !s.up.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                s.connections.fetch_add(1, Ordering::SeqCst);
                relay(&s, client, server);
            }
        });
        Ok(Proxy {
            port: addr.port(),
            shared,
            addr,
        })
    }

    /// Network down (`false`): open connections are cut, new ones closed at once.
    pub fn set_up(&self, up: bool) {
        self.shared.up.store(up, Ordering::SeqCst);
        if !up {
            self.cut_all();
        }
    }

    /// Each connection opened from now on is cut after `bytes` (None: never).
    pub fn cut_after(&self, bytes: Option<u64>) {
        self.shared
            .budget
            .store(bytes.unwrap_or(0), Ordering::SeqCst);
    }

    /// Cuts every open connection now.
    pub fn cut_all(&self) {
        let open = std::mem::take(&mut *self.shared.open.lock().unwrap_or_else(|p| p.into_inner()));
        for stream in open {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    /// Bytes relayed so far (both directions): to size `cut_after` budgets from a run.
    pub fn bytes(&self) -> u64 {
        self.shared.bytes.load(Ordering::SeqCst)
    }

    /// Connections relayed so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        self.cut_all();
        // Wake the accept loop so it sees `stopping`.
        let _ = TcpStream::connect(self.addr);
    }
}

fn relay(shared: &Arc<Shared>, client: TcpStream, server: TcpStream) {
    let budget = shared.budget.load(Ordering::SeqCst);
    let left = Arc::new(AtomicU64::new(if budget == 0 { u64::MAX } else { budget }));
    {
        let mut open = shared.open.lock().unwrap_or_else(|p| p.into_inner());
        open.retain(|s| s.peer_addr().is_ok());
        for s in [&client, &server] {
            if let Ok(clone) = s.try_clone() {
                open.push(clone);
            }
        }
    }
    for (from, to) in [(&client, &server), (&server, &client)] {
        let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
            continue;
        };
        let left = left.clone();
        let shared = shared.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                let n = match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                let allowed = left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |l| {
                        Some(l.saturating_sub(n as u64))
                    })
                    .unwrap_or(0);
                let pass = (allowed.min(n as u64)) as usize;
                if pass > 0 && to.write_all(&buf[..pass]).is_err() {
                    break;
                }
                shared.bytes.fetch_add(pass as u64, Ordering::SeqCst);
                if pass < n {
                    break;
                }
            }
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        });
    }
}
