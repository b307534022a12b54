#!/usr/bin/env bash
# `npm run bench [-- NAME]`: runs the benchmarks against the mail-server harness and prints one
# line per measure, `metric_name value unit`. NAME picks a group; groups so far:
#   read   Petrel's IMAP read path vs a bare IMAP client on the same Dovecot (ratios)
set -euo pipefail
source "$(dirname "$0")/env.sh"
GROUP="${1:-}"
bash "$ROOT/scripts/install-deps.sh" test >&2
cd "$ROOT"
case "$GROUP" in
  ""|read)
    cargo bench -q -p petrel-engine --bench read_path -- ${GROUP:+"$GROUP"} ;;
  *) echo "unknown benchmark group '$GROUP' (known: read)" >&2; exit 2 ;;
esac
