#!/usr/bin/env bash
# `npm run demo`: starts a throw-away Dovecot + Postfix with a sample mailbox and opens Petrel
# with a demo account for it, in a separate config dir so your own accounts are untouched.
# The mail servers need root: when you are not root, sudo asks for your password once.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/install-deps.sh" demo
cd "$ROOT"
log "Building Petrel and the mail-server harness"
npx tauri build --debug --no-bundle
cargo build -q -p petrel-harness
HARNESS="$CARGO_TARGET_DIR/debug/petrel-harness"

DEMO="$(mktemp -d -t petrel-demo-XXXXXX)"
INFO="$DEMO/harness.json"
cleanup() {
  [ -n "${APP_PID:-}" ] && kill "$APP_PID" 2>/dev/null
  "$HARNESS" demo-account --petrel-config "$DEMO/config" --remove 2>/dev/null || true
  [ -n "${SERVER_PID:-}" ] && as_root kill "$SERVER_PID" 2>/dev/null
  [ -n "${SERVER_PID:-}" ] && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$DEMO"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

log "Starting the demo mail server"
as_root "$HARNESS" serve --watch-pid $$ >"$INFO" &
SERVER_PID=$!
for _ in $(seq 100); do [ -s "$INFO" ] && break; sleep 0.1; done
[ -s "$INFO" ] || { echo "the demo mail server did not start" >&2; exit 1; }
"$HARNESS" demo-account --petrel-config "$DEMO/config" <"$INFO"

log "Opening Petrel with the demo account (alice@example.test). Close the window to stop."
PETREL_CONFIG_DIR="$DEMO/config" PETREL_LOG_DIR="$DEMO/logs" PETREL_CACHE_DIR="$DEMO/cache" \
  "$CARGO_TARGET_DIR/debug/petrel" &
APP_PID=$!
wait "$APP_PID" || true
APP_PID=
