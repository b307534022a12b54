# Sourced by the other scripts: common environment for building and testing Petrel.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# A target dir outside the clone survives fresh clones (CI reuses it when the machine does).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/petrel/target}"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
