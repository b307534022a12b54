#!/usr/bin/env bash
# Installs what Petrel needs on Debian/Ubuntu, idempotently: only what is missing.
#   scripts/install-deps.sh app    build and run the app
#   scripts/install-deps.sh test   also the mail servers, Xvfb, WebDriver, keychain, Chromium
#   scripts/install-deps.sh bench  also the baselines benchmarks compare with (mbsync, getmail6, notmuch)
# macOS and Windows: see README ("Other systems"); this script handles Debian/Ubuntu only.
set -euo pipefail
source "$(dirname "$0")/env.sh"
MODE="${1:-app}"

APP_PACKAGES=(build-essential pkg-config libssl-dev libdbus-1-dev libwebkit2gtk-4.1-dev libsoup-3.0-dev
  librsvg2-dev libayatana-appindicator3-dev)
TEST_PACKAGES=(dnsmasq-base dovecot-imapd dovecot-pop3d dovecot-submissiond dovecot-lmtpd postfix xvfb xauth
  webkit2gtk-driver gnome-keyring dbus dbus-x11 libsecret-tools chromium openssl desktop-file-utils dunst)
BENCH_PACKAGES=(isync getmail6 notmuch python3-notmuch2)

packages=("${APP_PACKAGES[@]}")
case "$MODE" in
  app) ;;
  test|demo) packages+=("${TEST_PACKAGES[@]}") ;;
  bench) packages+=("${TEST_PACKAGES[@]}" "${BENCH_PACKAGES[@]}") ;;
  *) echo "usage: $0 app|test|demo|bench" >&2; exit 2 ;;
esac

if command -v dpkg-query >/dev/null; then
  missing=()
  for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "Installing system packages: ${missing[*]}"
    # Postfix asks how to configure the system MTA; Petrel's tests run their own instance.
    echo "postfix postfix/main_mailer_type select No configuration" | as_root debconf-set-selections
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "Not a Debian/Ubuntu system: install the equivalents of ${packages[*]} yourself (see README)." >&2
fi

command -v cargo >/dev/null || { echo "Rust is missing: install it from https://rustup.rs (Rust 1.95 or newer)." >&2; exit 1; }
command -v node >/dev/null || { echo "Node.js is missing: install Node.js 20.19 or newer." >&2; exit 1; }
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  { echo "Node.js $(node --version) is too old: Vite 7 needs 20.19 or newer." >&2; exit 1; }

# npm packages, when the lock file changed since the last install.
if [ ! -f "$ROOT/node_modules/.package-lock.json" ] || [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
  log "Installing npm packages"
  # `npm install`, not `npm ci`: registry mirrors that carry only this platform's optional
  # packages (e.g. @tauri-apps/cli-<os>) make `npm ci` refuse a lock file that lacks the others.
  (cd "$ROOT" && npm install --no-audit --no-fund --loglevel=error)
fi

if { [ "$MODE" = test ] || [ "$MODE" = bench ]; } && ! command -v tauri-driver >/dev/null; then
  log "Installing tauri-driver (cargo install, about a minute)"
  cargo install tauri-driver --locked --version 2.1.0 --quiet
fi
