#!/usr/bin/env bash
# `npm run app`: installs what is missing, builds the UI and the app, and opens the window.
# For UI work with hot reload use `npx tauri dev` instead.
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/install-deps.sh" app
cd "$ROOT"
log "Building Petrel (the first build takes a few minutes)"
# tauri build runs `npm run ui:build` first and embeds ui/dist in the binary.
npx tauri build --debug --no-bundle
exec "$CARGO_TARGET_DIR/debug/petrel" "$@"
