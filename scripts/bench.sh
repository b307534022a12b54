#!/usr/bin/env bash
# `npm run bench [-- NAME]`: runs the benchmarks against the mail-server harness and prints one
# line per measure, `metric_name value unit`. NAME picks a group; groups so far:
#   read   Petrel's IMAP read path vs a bare IMAP client on the same Dovecot (ratios)
#   store  the sled cache: 200-row pages of a 100k folder (imap_page_ms, goal <= 20 ms)
#   imap   the IMAP engine at 100k messages: header sync vs a bare client, resync round
#          trips, pages, RSS, and a 20k full body sync vs mbsync (several minutes)
#   ui     the real window (release build, Xvfb) with a 100k folder: open, scroll to end, RSS
#   pop3   a durable download of 10k POP3S messages vs getmail6 and two bare-client floors,
#          one keeping the mail in memory, one in durable Maildir files (about 2–3 minutes)
#   search the search index vs notmuch on 100k messages: indexing, query p95, size, agreement,
#          new mail findable (about 10 minutes)
# PETREL_BENCH_PIN=1 (read, imap, pop3, search): the servers on CPU 0 and the bench (Petrel and
# its baseline alike) on the other CPUs, as against a server on another machine; without it a
# client's CPU time on a 2-core box also delays the server it is measured against.
set -euo pipefail
source "$(dirname "$0")/env.sh"
GROUP="${1:-}"
bash "$ROOT/scripts/install-deps.sh" bench >&2
cd "$ROOT"
case "$GROUP" in
  ""|read|store|imap|ui|pop3|search) ;;
  *) echo "unknown benchmark group '$GROUP' (known: read, store, imap, ui, pop3, search)" >&2; exit 2 ;;
esac
if [ -z "$GROUP" ] || [ "$GROUP" = read ]; then cargo bench -q -p petrel-engine --bench read_path; fi
if [ -z "$GROUP" ] || [ "$GROUP" = store ]; then cargo bench -q -p petrel-store --bench page; fi
# The engine benches set glibc's allocator up as the app does (petrel_engine::heap::tune: two
# arenas, a fixed mapping threshold); its defaults made imap_rss_mb swing from 109 to 402 MB.
if [ -z "$GROUP" ] || [ "$GROUP" = imap ]; then cargo bench -q -p petrel-engine --bench imap; fi
if [ -z "$GROUP" ] || [ "$GROUP" = pop3 ]; then cargo bench -q -p petrel-pop3 --bench pop3; fi
if [ -z "$GROUP" ] || [ "$GROUP" = search ]; then cargo bench -q -p petrel-engine --bench search; fi
if [ -z "$GROUP" ] || [ "$GROUP" = ui ]; then
  log "ui: building the app (release) and the harness"
  mkdir -p "$ROOT/artifacts/logs"
  npx tauri build --no-bundle >"$ROOT/artifacts/logs/bench-ui-build.log" 2>&1
  cargo build -q -p petrel-harness
  bash "$ROOT/scripts/with-keyring.sh" xvfb-run -a -s "-screen 0 1280x800x24" node tests/bench/ui.mjs
fi
