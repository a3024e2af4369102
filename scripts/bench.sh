#!/usr/bin/env bash
# Runs the benchmarks of BENCHMARKS.md in a release build, with their peers (git, ripgrep, find,
# raw SQLite) on the same data in the same run. Options pass through: --quick (smaller scales),
# --only commits,size,read,search,merge,governed,authz,ontology,routes,routes-http,solve,facility,agents,backends,workflows,features,console,bbox. Output: Markdown on stdout, also saved in .bench/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh ripgrep git wrk python3-venv chromium chromium-driver postgresql-postgis
# Not --static-swift-stdlib: the binary links FoundationNetworking (the OIDC key-set fetch),
# whose static archive needs a static libcurl that Debian does not ship.
# The peers of the route and solve benchmarks (networkx, scipy; OR-Tools, HiGHS) in a virtualenv of the
# benchmarks' own (git-ignored).
if ! .bench/venv/bin/python3 -c "import networkx, scipy, ortools, highspy, selenium" 2>/dev/null; then
  mkdir -p .bench && { [ -x .bench/venv/bin/python3 ] || python3 -m venv .bench/venv; } \
    && .bench/venv/bin/pip install --quiet "networkx>=3.2" "scipy>=1.11" "numpy>=1.26" "ortools>=9.8" "highspy>=1.7" "selenium>=4.15" || echo "could not install the peers; their rows will say so" >&2
fi
# pygeoapi, the OGC API – Features peer, in a virtualenv of its own (its dependencies pin versions).
if ! .bench/pygeoapi/bin/python3 -c "import pygeoapi" 2>/dev/null; then
  mkdir -p .bench && { [ -x .bench/pygeoapi/bin/python3 ] || /usr/bin/python3 -m venv .bench/pygeoapi; } \
    && .bench/pygeoapi/bin/pip install --quiet "pygeoapi>=0.20" "gunicorn>=21" || echo "could not install pygeoapi; its row will say so" >&2
fi
swift build -c release 2>&1 | grep -E "error|warning:|Build complete" || true
[ -x .build/release/cairn ] && [ -x .build/release/CairnBench ] || { echo "the release build failed" >&2; exit 1; }
mkdir -p .bench
# The PostgreSQL rows run against a throwaway cluster of their own, stopped on exit.
pgdir=$(mktemp -d /tmp/cairn-bench-pg-XXXXXX)
trap 'scripts/pg-cluster.sh stop "$pgdir"; rm -rf "$pgdir"' EXIT
eval "$(scripts/pg-cluster.sh start "$pgdir")"
CAIRN_BENCH_DATA="${CAIRN_BENCH_DATA:-$PWD/../shared/data/helsinki.geojsonseq}" \
  .build/release/CairnBench --dir .bench "$@" | tee .bench/latest.md
