#!/usr/bin/env bash
# The main job (until the server exists): builds `cairn`, imports central Helsinki from
# OpenStreetMap (© OpenStreetMap contributors, ODbL) as one commit, changes a feature, and
# shows log, diff, blame and verify. Data goes to a fresh folder (default: ./cairn-demo-data).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build --product cairn 2>&1 | grep -E "error|Build complete" || true
cairn=".build/debug/cairn"
export CAIRN_DATA="${CAIRN_DEMO_DATA:-$PWD/cairn-demo-data}"
export CAIRN_PROJECT=helsinki
rm -rf "$CAIRN_DATA"
data="${SHARED_DATA:-../shared/data}/helsinki.geojsonseq"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "cairn $*"; "$cairn" "$@"; }

run init
run project create helsinki
run import "$data" --template 'osm/{@type}/{@id}-{geometry.type}.json' -m "import central Helsinki (OSM)"
run glob 'osm/node/2529156*'
run grep 'traffic_signals' --glob 'osm/node/**' --mode count --head-limit 3
run edit osm/node/25291565-Point.json --old '"highway":"traffic_signals"' \
  --new '"highway":"traffic_signals","cairn:survey":"2026-11"' -m "survey: signal checked on site" --author surveyor
run write osm/node/25291565-Point.json --file <("$cairn" read osm/node/25291565-Point.json | sed 's/24.9393442/24.9393500/') \
  -m "survey: signal position corrected" --author surveyor
run log
run log --path osm/node/25291565-Point.json
run diff main~2 main
run blame osm/node/25291565-Point.json
run verify
