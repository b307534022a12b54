//! `npm run bench -- search`: Petrel's search index against notmuch on the same messages,
//! in one run. Prints `metric value unit` lines:
//! - `search_index_vs_notmuch`: indexing throughput, Petrel's over `notmuch new`'s (goal >= 3);
//!   both read the same Maildir files, Petrel with the app's writer (one thread, 32 MB);
//! - `search_p95_ms`, `search_p95_vs_notmuch`: p95 of a fixed query set (rare word, common
//!   word top-50, from:, phrase, date range, a combination), notmuch timed in-process
//!   (python3-notmuch2, database opened once: no process start), goal <= 0.5;
//! - `search_index_mb` per 10k messages (and notmuch's), `search_index_peak_rss_mb`;
//! - `search_agreement_pct`: the word and phrase queries' result sets, Petrel's against
//!   notmuch's (goal >= 99);
//! - `search_new_mail_ms`: a message appended on the server (Dovecot) → found by a search
//!   of the engine that watches the account (IDLE), goal <= 1,000.
//!
//! The corpus: the imap bench's headers (Received, DKIM, threading, MIME; 500 senders, dates
//! over November) with bodies of words drawn from a Zipf-distributed vocabulary, so that
//! words are common or rare as in mail. `PETREL_BENCH_MESSAGES` shrinks it.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a bench: failing loudly is the point

#[path = "common/mod.rs"]
mod common;

use common::{env_count, mix};
use petrel_core::query::{parse, Day};
use petrel_core::Envelope;
use petrel_search::{Message, Places, Ranking, SearchIndex};
use std::collections::HashSet;
use std::io::{BufRead, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const QUERY_RUNS: usize = 20;
const VOCABULARY: usize = 20_000;

/// Word `n` of the vocabulary: syllables of a consonant and a vowel (no "e"/"y"/"s" endings,
/// so English stemming — notmuch stems, Petrel does not — leaves them alone).
fn word(n: usize) -> String {
    const C: &[u8] = b"bdfgklmnprtvz";
    const V: &[u8] = b"aiou";
    let mut n = n + 1;
    let mut w = String::new();
    while n > 0 {
        w.push(C[n % C.len()] as char);
        n /= C.len();
        w.push(V[n % V.len()] as char);
        n /= V.len();
    }
    if w.len() < 4 {
        w.push_str("ka");
    }
    w
}

/// A Zipf-ish rank: small ranks are common words.
fn zipf(r: u64) -> usize {
    let u = (r % 1_000_000) as f64 / 1_000_000.0;
    ((VOCABULARY as f64).powf(u) as usize).saturating_sub(1)
}

fn message(i: usize) -> Vec<u8> {
    let r = mix(i, 1);
    let body_len = match r % 100 {
        0..=59 => 300 + (r >> 8) % 1_700,
        60..=89 => 2_000 + (r >> 8) % 6_000,
        _ => 8_000 + (r >> 8) % 32_000,
    } as usize;
    let day = 1 + (i / 4_000) % 28;
    let (hh, mm, ss) = ((i / 3_600) % 24, (i / 60) % 60, i % 60);
    let s = r % 500;
    let subject = match r % 4 {
        0 => format!("Re: Quarterly planning, item {}", i % 97),
        1 => format!("[list-{}] Weekly digest #{i}", i % 7),
        2 => format!("Invoice {i} for November"),
        _ => format!("Photos from the trip ({} attached)", 1 + i % 5),
    };
    let mut m = format!(
        "Return-Path: <sender{s}@example.org>\r\n\
         Received: from mx{s}.example.org (mx{s}.example.org [192.0.2.{o}])\r\n\tby mail.example.test with ESMTPS id {r:x}\r\n\tfor <alice@example.test>; Mon, {day:02} Nov 2026 {hh:02}:{mm:02}:{ss:02} +0000\r\n\
         DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=sel; h=from:to:subject:date;\r\n\tbh={bh}=;\r\n\tb={b}\r\n\
         From: Sender {s} <sender{s}@example.org>\r\nTo: Alice <alice@example.test>\r\n\
         Subject: {subject}\r\nDate: Mon, {day:02} Nov 2026 {hh:02}:{mm:02}:{ss:02} +0000\r\n\
         Message-ID: <m{i}@example.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
        o = r % 250,
        bh = "x".repeat(43),
        b = "Q".repeat(160),
    );
    let mut k = 0;
    let start = m.len();
    while m.len() < start + body_len {
        k += 1;
        m.push_str(&word(zipf(mix(k, mix(i, 7)))));
        m.push_str(if k % 12 == 0 { ".\r\n" } else { " " });
    }
    m.push_str("\r\n");
    m.into_bytes()
}

struct NoPlaces;
impl Places for NoPlaces {
    fn folders(&self, _: &str) -> Vec<(String, String)> {
        vec![]
    }
    fn accounts(&self, _: &str) -> Vec<String> {
        vec![]
    }
}

fn dir_mb(dir: &Path) -> f64 {
    fn size(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| match e.metadata() {
                        Ok(m) if m.is_dir() => size(&e.path()),
                        Ok(m) => m.len(),
                        Err(_) => 0,
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    size(dir) as f64 / (1024.0 * 1024.0)
}

fn p95(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[((ms.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)]
}

/// Resets the peak RSS (VmHWM) so the next reading is the indexing's own.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

struct QuerySpec {
    name: &'static str,
    petrel: String,
    notmuch: String,
    limit: usize,
    /// Compared with notmuch's result set.
    agree: bool,
}

fn main() {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .unwrap_or_default();
    if !filter.is_empty() && !"search".contains(filter.as_str()) {
        return;
    }
    // The allocator set up as the app sets it (arenas, mapping threshold), before any thread.
    petrel_engine::heap::tune();
    let n = env_count("PETREL_BENCH_MESSAGES", 100_000);
    let work = tempfile::tempdir().unwrap();
    let maildir = work.path().join("mail");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let t = Instant::now();
    for i in 0..n {
        std::fs::write(
            maildir.join("cur").join(format!("{i}.bench:2,S")),
            message(i),
        )
        .unwrap();
    }
    eprintln!("wrote {n} messages in {:.1} s", t.elapsed().as_secs_f64());

    // notmuch new, on a fresh database.
    let config = work.path().join("notmuch-config");
    std::fs::write(
        &config,
        format!(
            "[database]\npath={}\n[new]\ntags=\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n",
            maildir.display()
        ),
    )
    .unwrap();
    let t = Instant::now();
    let out = std::process::Command::new("notmuch")
        .arg(format!("--config={}", config.display()))
        .arg("new")
        .arg("--quiet")
        .output()
        .expect("notmuch runs (scripts/install-deps.sh bench installs it)");
    assert!(
        out.status.success(),
        "notmuch new: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let notmuch_s = t.elapsed().as_secs_f64();
    let notmuch_mb = dir_mb(&maildir.join(".notmuch"));

    // Petrel: the same files through the app's indexing path (list row + whole message).
    let index_dir = work.path().join("petrel-index");
    reset_peak();
    let t = Instant::now();
    let (index, _) = SearchIndex::open(&index_dir).unwrap();
    for i in 0..n {
        let raw = std::fs::read(maildir.join("cur").join(format!("{i}.bench:2,S"))).unwrap();
        let head = petrel_render::list_headers(&raw);
        let row = Envelope {
            uid: i as u32 + 1,
            from: head.from,
            subject: head.subject,
            date: head.date,
            seen: true,
            flagged: false,
            answered: false,
            has_attachment: head.has_attachment,
            size: raw.len() as u64,
        };
        index
            .put(&Message {
                account: "bench",
                folder: "INBOX",
                uid: row.uid,
                row: &row,
                links: None,
                raw: Some(&raw),
            })
            .unwrap();
        // The engine commits per round of the journal; a commit per 10k here.
        if (i + 1) % 10_000 == 0 {
            index.commit(1, i as u64).unwrap();
        }
    }
    index.commit(1, n as u64).unwrap();
    index.release_writer();
    let petrel_s = t.elapsed().as_secs_f64();
    let (_, peak) = common::rss_mb();
    let petrel_mb = dir_mb(&index_dir);

    println!("search_messages {n} messages");
    println!("search_index_s {petrel_s:.1} s");
    println!("search_index_notmuch_s {notmuch_s:.1} s");
    println!("search_index_vs_notmuch {:.2} x", notmuch_s / petrel_s);
    println!(
        "search_index_mb {:.1} MB per 10k messages",
        petrel_mb * 10_000.0 / n as f64
    );
    println!(
        "search_index_notmuch_mb {:.1} MB per 10k messages",
        notmuch_mb * 10_000.0 / n as f64
    );
    println!("search_index_peak_rss_mb {peak:.0} MB");

    // The query set: the words picked from the vocabulary by how often they occur.
    let common_word = word(0);
    let rare_word = word(VOCABULARY / 2);
    let mid = word(40);
    let phrase = format!("{} {}", word(1), word(2));
    let queries = vec![
        QuerySpec {
            name: "rare_word",
            petrel: rare_word.clone(),
            notmuch: rare_word.clone(),
            limit: 50,
            agree: true,
        },
        QuerySpec {
            name: "common_word_top50",
            petrel: common_word.clone(),
            notmuch: common_word.clone(),
            limit: 50,
            agree: true,
        },
        QuerySpec {
            name: "from",
            petrel: "from:sender42@example.org".into(),
            notmuch: "from:sender42@example.org".into(),
            limit: 50,
            agree: false,
        },
        QuerySpec {
            name: "phrase",
            petrel: format!("\"{phrase}\""),
            notmuch: format!("\"{phrase}\""),
            limit: 50,
            agree: true,
        },
        QuerySpec {
            name: "date_range",
            petrel: "after:2026/11/01 before:2026/11/02".into(),
            notmuch: "date:2026-11-01..2026-11-01".into(),
            limit: 50,
            agree: true,
        },
        QuerySpec {
            name: "combination",
            petrel: format!("from:sender7@example.org {mid} -{common_word}"),
            notmuch: format!("from:sender7@example.org and {mid} and not {common_word}"),
            limit: 50,
            agree: false,
        },
        QuerySpec {
            name: "mid_word",
            petrel: mid.clone(),
            notmuch: mid.clone(),
            limit: 50,
            agree: true,
        },
    ];
    let today = Day {
        year: 2026,
        month: 12,
        day: 2,
    };

    // Petrel's times.
    let mut petrel_ms = Vec::new();
    for q in &queries {
        let parsed = parse(&q.petrel).unwrap();
        let mut times = Vec::new();
        for _ in 0..QUERY_RUNS {
            let t = Instant::now();
            let found = index
                .search(&parsed, &NoPlaces, today, Ranking::Newest, 0, q.limit)
                .unwrap();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(
                found.total > 0 || q.name == "combination",
                "{} found nothing",
                q.name
            );
        }
        eprintln!("petrel {:<18} p95 {:.2} ms", q.name, p95(times.clone()));
        petrel_ms.extend(times);
    }

    // notmuch's, in-process.
    let mut child = std::process::Command::new("/usr/bin/python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../tests/bench/notmuch_queries.py"
        ))
        .arg(&maildir)
        .env("NOTMUCH_CONFIG", &config)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3-notmuch2 (scripts/install-deps.sh bench installs it)");
    {
        let mut stdin = child.stdin.take().unwrap();
        for q in &queries {
            let line = serde_json::json!({"name": q.name, "query": q.notmuch, "limit": q.limit, "runs": QUERY_RUNS, "ids": q.agree});
            writeln!(stdin, "{line}").unwrap();
        }
    }
    let mut notmuch_ms = Vec::new();
    let mut agreement = Vec::new();
    let reader = std::io::BufReader::new(child.stdout.take().unwrap());
    for (q, line) in queries.iter().zip(reader.lines()) {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        let times: Vec<f64> = v["ms"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|x| x.as_f64())
            .collect();
        eprintln!("notmuch {:<17} p95 {:.2} ms", q.name, p95(times.clone()));
        notmuch_ms.extend(times);
        if q.agree {
            let theirs: HashSet<u32> = v["ids"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|x| {
                    x.as_str()?
                        .strip_prefix('m')?
                        .strip_suffix("@example.test")?
                        .parse::<u32>()
                        .ok()
                })
                .map(|i| i + 1)
                .collect();
            let ours: HashSet<u32> = index
                .search(
                    &parse(&q.petrel).unwrap(),
                    &NoPlaces,
                    today,
                    Ranking::Newest,
                    0,
                    n,
                )
                .unwrap()
                .hits
                .iter()
                .map(|h| h.uid)
                .collect();
            let both = ours.intersection(&theirs).count() as f64;
            let either = ours.union(&theirs).count().max(1) as f64;
            eprintln!(
                "agreement {:<15} {} vs {} ({:.2}%)",
                q.name,
                ours.len(),
                theirs.len(),
                100.0 * both / either
            );
            agreement.push(100.0 * both / either);
        }
    }
    child.wait().unwrap();
    let (ours, theirs) = (p95(petrel_ms), p95(notmuch_ms));
    println!("search_p95_ms {ours:.2} ms");
    println!("search_p95_notmuch_ms {theirs:.2} ms");
    println!("search_p95_vs_notmuch {:.2} x", ours / theirs);
    println!(
        "search_agreement_pct {:.2} %",
        agreement.iter().copied().fold(f64::INFINITY, f64::min)
    );
    drop(index);

    new_mail_latency();
}

/// A message appended on the server → found by the engine's search, with the engine
/// watching the account as the app does (IDLE on INBOX).
fn new_mail_latency() {
    use petrel_core::SearchOrder;
    use petrel_engine::{Engine, SledCache, TrustPolicy};
    use petrel_harness::{Harness, MemorySecrets};
    use std::sync::Arc;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let h = Harness::start_for_bench().expect("harness starts");
    h.seed_generated("alice", "INBOX", 1_000, message, false)
        .unwrap();
    runtime.block_on(async {
        let config = tempfile::tempdir().unwrap();
        let cache_dir = tempfile::tempdir().unwrap();
        let trust = TrustPolicy::with_pem_roots(h.ca_pem().as_bytes()).unwrap();
        let engine = Arc::new(
            Engine::open(
                config.path(),
                Arc::new(MemorySecrets::default()),
                trust,
                Arc::new(SledCache::open(cache_dir.path()).unwrap()),
            )
            .unwrap(),
        );
        let id = engine
            .add_account(common::account_form(&h))
            .await
            .unwrap()
            .id;
        engine.envelopes(&id, "INBOX", 0, 50, true).await.unwrap();
        let _watch = engine.watch(Duration::from_secs(60), Arc::new(|_| {}));
        // Let IDLE start.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let mut times = Vec::new();
        for k in 0..5 {
            let token = format!("zanzibarqx{k}");
            let raw = format!(
                "From: New <new@example.org>\r\nSubject: {token} arrived\r\nMessage-ID: <new{k}@example.test>\r\n\r\nhello\r\n"
            );
            let t = Instant::now();
            h.append("alice", "INBOX", raw.as_bytes()).unwrap();
            loop {
                let found = engine.search(&token, SearchOrder::Newest, 10, false).await.unwrap();
                if !found.hits.is_empty() {
                    break;
                }
                assert!(t.elapsed() < Duration::from_secs(60), "new mail never became findable");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            times.push(t.elapsed());
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        println!("search_new_mail_ms {:.0} ms", common::median(times) );
    });
}
