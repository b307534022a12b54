#!/usr/bin/env bash
# Runs a command inside its own D-Bus session with an unlocked, throw-away gnome-keyring, so
# keychain tests use the real Secret Service without touching the user's keyring.
#   scripts/with-keyring.sh <command...>
set -euo pipefail
if [ -z "${PETREL_KEYRING_SESSION:-}" ]; then
  export PETREL_KEYRING_SESSION=1
  exec dbus-run-session -- "$0" "$@"
fi
# gnome-keyring keeps its files under $XDG_DATA_HOME/keyrings: point it at a temp dir.
KEYRING_HOME="$(mktemp -d -t petrel-keyring-XXXXXX)"
trap 'rm -rf "$KEYRING_HOME"' EXIT
export XDG_DATA_HOME="$KEYRING_HOME/data"
mkdir -p "$XDG_DATA_HOME/keyrings" "${HOME}/.cache"
# A random unlock password: the keyring lives only as long as this session.
head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
"$@"
