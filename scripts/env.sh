# Sourced by the other scripts: common environment for building and testing Petrel.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
# A target dir outside the clone survives fresh clones (CI reuses it when the machine does).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/petrel/target}"
# What compiles its own folder's path in (`env!("CARGO_MANIFEST_DIR")`: test fixtures, the
# harness's sample mail) goes stale when another clone built into this target dir last: this
# clone's files look older than the build, so cargo keeps binaries that read the other
# clone's folders. Touching those files when the clone changes makes cargo rebuild them.
PETREL_ROOT_STAMP="$CARGO_TARGET_DIR/.petrel-root"
if [ "$(cat "$PETREL_ROOT_STAMP" 2>/dev/null)" != "$ROOT" ]; then
  grep -rl --include='*.rs' 'env!("CARGO_MANIFEST_DIR")' "$ROOT/src-tauri" "$ROOT/tests" | xargs -r touch || true
  mkdir -p "$CARGO_TARGET_DIR" && printf '%s\n' "$ROOT" >"$PETREL_ROOT_STAMP"
fi
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
