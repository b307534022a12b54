#!/usr/bin/env bash
# `npm run demo`: starts a throw-away Dovecot + Postfix with a sample mailbox and opens Petrel
# with a demo account for it, in a separate config dir so your own accounts are untouched.
# The mail servers need root: when you are not root, sudo asks for your password once.
# It runs in a desktop session or under `xvfb-run npm run demo`; a session without a
# Secret Service (a bare X server, a minimal desktop) gets a throw-away keyring for the demo.
set -euo pipefail
source "$(dirname "$0")/env.sh"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display to open Petrel's window on: run this in a desktop session, or as 'xvfb-run npm run demo'." >&2
  exit 1
fi
bash "$ROOT/scripts/install-deps.sh" demo
# Is a Secret Service running, or can D-Bus start one? (The app and the demo account both
# keep the password there.)
secret_service() {
  [ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || return 1
  local bus=(gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus)
  "${bus[@]}" --method org.freedesktop.DBus.NameHasOwner org.freedesktop.secrets 2>/dev/null | grep -q true \
    || "${bus[@]}" --method org.freedesktop.DBus.ListActivatableNames 2>/dev/null | grep -q "org.freedesktop.secrets"
}
if [ -z "${PETREL_KEYRING_SESSION:-}" ] && ! secret_service; then
  log "No Secret Service in this session: the demo gets a throw-away keyring (gone when it ends)"
  exec "$(dirname "$0")/with-keyring.sh" bash "$0" "$@"
fi
cd "$ROOT"
log "Building Petrel and the mail-server harness"
npx tauri build --debug --no-bundle
cargo build -q -p petrel-harness
HARNESS="$CARGO_TARGET_DIR/debug/petrel-harness"

DEMO="$(mktemp -d -t petrel-demo-XXXXXX)"
INFO="$DEMO/harness.json"
cleanup() {
  # Every step runs whatever the one before did (errexit would stop at the first
  # non-zero status — a killed server's — and leave the temp dirs behind).
  set +e
  [ -n "${APP_PID:-}" ] && kill "$APP_PID" 2>/dev/null
  "$HARNESS" demo-account --petrel-config "$DEMO/config" --remove 2>/dev/null
  if [ -n "${SERVER_PID:-}" ]; then
    as_root kill "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
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
