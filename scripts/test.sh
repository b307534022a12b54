#!/usr/bin/env bash
# `npm test`: installs what the tests need, starts it, runs every suite, stops what it started,
# and exits non-zero if anything failed. One closing line per suite, then a total.
#   npm test                 all suites
#   npm test -- rust         one suite: lint | rust | ui-unit | ui-playwright | e2e
set -uo pipefail
source "$(dirname "$0")/env.sh"
ONLY="${1:-all}"

if [ -z "${PETREL_KEYRING_SESSION:-}" ]; then
  bash "$ROOT/scripts/install-deps.sh" test || exit 1
  # Everything below runs in a private D-Bus session with an unlocked throw-away keyring.
  exec "$ROOT/scripts/with-keyring.sh" "$0" "$@"
fi

cd "$ROOT"
LOGS="$ROOT/artifacts/logs"
mkdir -p "$LOGS" "$ROOT/artifacts/ui" "$ROOT/artifacts/e2e"
SUMMARY=()
FAILED=0

# record NAME PASSED FAILED
record() {
  SUMMARY+=("$1: $2 passed, $3 failed")
  printf '%s: %s passed, %s failed\n' "$1" "$2" "$3"
  if [ "$3" != 0 ] || [ "$2" = 0 ]; then FAILED=1; fi
}

want() { [ "$ONLY" = all ] || [ "$ONLY" = "$1" ]; }

# Sums the numbers before " passed"/" failed" in cargo's "test result:" lines.
cargo_counts() {
  grep -E '^test result:' "$1" | sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' |
    awk '{p+=$1; f+=$2} END {print p+0, f+0}'
}

# The app crate embeds ui/dist at compile time (tauri::generate_context!), so every suite
# that compiles it — clippy, cargo test, the E2E build — needs the UI built first.
log "building the UI (vite)"
if ! npm run --silent ui:build >"$LOGS/ui-build.log" 2>&1; then
  cat "$LOGS/ui-build.log"; record ui-build 0 1
fi

if want lint; then
  log "lint: rustfmt, clippy, svelte-check, engine crates free of Tauri"
  pass=0; fail=0
  for check in "cargo fmt --all --check" "cargo clippy --workspace --all-targets --quiet -- -D warnings" "npm run --silent ui:check"; do
    if $check >>"$LOGS/lint.log" 2>&1; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $check (see artifacts/logs/lint.log)"; fi
  done
  # The engine must build and test without WebKit: no crate under src-tauri/crates may pull tauri.
  for crate in src-tauri/crates/*/; do
    name=$(basename "$crate")
    if cargo tree -q -p "$name" -e normal,build 2>>"$LOGS/lint.log" | grep -qE '^[^a-z]*(tauri|wry|webkit2gtk)[ -]'; then
      fail=$((fail + 1)); echo "FAILED: $name depends on tauri/wry/webkit"
    else
      pass=$((pass + 1))
    fi
  done
  record lint "$pass" "$fail"
fi

if want rust; then
  log "rust: unit and integration tests (real Dovecot + Postfix harness, real keychain)"
  cargo test --workspace --no-fail-fast 2>&1 | tee "$LOGS/rust.log" | grep -E '^(test result|failures:|---- )' || true
  read -r pass fail < <(cargo_counts "$LOGS/rust.log")
  # A build failure produces no result line; count it as a failure.
  grep -qE '^error(\[E[0-9]+\]|: could not compile)' "$LOGS/rust.log" && fail=$((fail + 1))
  record rust "$pass" "$fail"
fi

if want ui-unit; then
  log "ui-unit: Vitest"
  # Counts come from Vitest's JSON report: its console output is coloured under CI=true.
  npx vitest run --config ui/vite.config.ts --reporter=default --reporter=json \
    --outputFile="$LOGS/ui-unit.json" >"$LOGS/ui-unit.log" 2>&1
  status=$?
  read -r pass fail < <(node -e 'try { const r = require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests) } catch { console.log(0, 1) }' "$LOGS/ui-unit.json")
  [ "$status" != 0 ] && [ "$fail" = 0 ] && fail=1
  [ "$status" != 0 ] && tail -30 "$LOGS/ui-unit.log"
  record ui-unit "$pass" "$fail"
fi

# The failing tests' blocks of a node --test log (name, error, stack head), not just its tail:
# CI shows only this output.
node_failures() {
  awk '/^not ok /{show=1; n=0} /^ok /{show=0} show && n < 40 {print; n++}' "$1" | grep -vE '^ +at '
}

node_counts() {
  local pass fail
  pass=$(grep -E '^# pass ' "$1" | awk '{print $3}' | tail -1)
  fail=$(grep -E '^# fail ' "$1" | awk '{print $3}' | tail -1)
  echo "${pass:-0} ${fail:-1}"
}

if want ui-playwright; then
  log "ui-playwright: built UI + fake backend in Chromium"
  node --test tests/ui/ >"$LOGS/ui-playwright.log" 2>&1
  status=$?
  read -r pass fail < <(node_counts "$LOGS/ui-playwright.log")
  [ "$status" != 0 ] && { [ "$fail" = 0 ] && fail=1; node_failures "$LOGS/ui-playwright.log"; grep -vE '^ +(at |\.\.\.)' "$LOGS/ui-playwright.log" | tail -15; }
  record ui-playwright "$pass" "$fail"
fi

if want e2e; then
  # The debug build, packaged as a .deb too: the package test installs it (dpkg -i), starts
  # the installed program and removes it. The old .deb goes first so only this one is there.
  log "e2e: building the app and its .deb (tauri build --debug --bundles deb) and the harness"
  rm -rf "$CARGO_TARGET_DIR/debug/bundle/deb"
  if npx tauri build --debug --bundles deb >"$LOGS/e2e-build.log" 2>&1 && cargo build -q -p petrel-harness >>"$LOGS/e2e-build.log" 2>&1; then
    log "e2e: real window under Xvfb via tauri-driver + WebKitWebDriver"
    # Compositing on for the screenshots (artifacts/e2e): WebKitWebDriver's screenshot never
    # answers with it off, Petrel's default (html-attacks runs that way, without them).
    WEBKIT_DISABLE_COMPOSITING_MODE=0 xvfb-run -a -s "-screen 0 1280x800x24" node --test --test-concurrency=1 tests/e2e/ >"$LOGS/e2e.log" 2>&1
    status=$?
    read -r pass fail < <(node_counts "$LOGS/e2e.log")
    [ "$status" != 0 ] && { [ "$fail" = 0 ] && fail=1; node_failures "$LOGS/e2e.log"; grep -vE '^ +(at |\.\.\.)|dbus-daemon' "$LOGS/e2e.log" | tail -15; }
    record e2e "$pass" "$fail"
  else
    tail -40 "$LOGS/e2e-build.log"
    record e2e 0 1
  fi
  pkill -f "tauri-driver --port 4444" 2>/dev/null || true
fi

echo
echo "Petrel test summary (logs in artifacts/logs, screenshots in artifacts/ui and artifacts/e2e)"
total_pass=0; total_fail=0
for line in "${SUMMARY[@]}"; do
  echo "$line"
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/'); f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/')
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done
echo "total: $total_pass passed, $total_fail failed"
exit "$FAILED"
