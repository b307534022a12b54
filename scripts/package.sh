#!/usr/bin/env bash
# npm run package: Petrel's Linux packages (.deb and .rpm, release build) through Tauri's
# bundler, into $CARGO_TARGET_DIR/release/bundle/{deb,rpm}/. Both build offline.
# AppImage and the Windows installers (NSIS/MSI) are configured in tauri.conf.json but their
# tools are downloaded by the bundler at build time: `npx tauri build --bundles appimage`
# (or nsis on Windows) on a machine with network. macOS: `--bundles app,dmg` on a Mac.
#   npm run package              release .deb and .rpm
#   npm run package -- --debug   the same from the debug build (what npm test installs)
set -euo pipefail
source "$(dirname "$0")/env.sh"
bash "$ROOT/scripts/install-deps.sh" app
cd "$ROOT"
npx tauri build --bundles deb,rpm "$@"
profile=release
for a in "$@"; do [ "$a" = --debug ] && profile=debug; done
log "Packages:"
ls -1 "$CARGO_TARGET_DIR/$profile/bundle/deb/"*.deb "$CARGO_TARGET_DIR/$profile/bundle/rpm/"*.rpm
