#!/usr/bin/env bash
# The main job: installs what is missing, builds `cairn`, and runs `cairn serve` on loopback
# (data in ./cairn-data unless --data or CAIRN_DATA says otherwise). Extra arguments go to serve.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --product cairn 2>&1 | grep -E "error|Build complete" || true
exec .build/debug/cairn serve "$@"
