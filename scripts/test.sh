#!/usr/bin/env bash
# The test command: installs what is missing, builds everything once, runs every test, and
# ends with one summary line "N passed, N failed" (Swift Testing's own lines are above it).
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh gdal-bin chromium chromium-driver || exit 1

# Outside tools from PyPI, in a virtualenv of the project's own (git-ignored): the OIDC tests'
# independent identity provider (pyjwt + cryptography), the API conformance test's
# schemathesis, and the compute references (networkx for routes, shapely for planar geometry,
# geographiclib and pyproj for geodesics) and the solve references (HiGHS for LP/MIP, OR-Tools
# for vehicle routing) and the official MCP client (mcp), OWSLib, the OGC API client GIS scripts
# use, and selenium with axe-core (axe-selenium-python) for the web console in a real browser.
if ! .venv/bin/python3 -c "import jwt, cryptography, schemathesis, networkx, shapely, geographiclib, pyproj, highspy, ortools, mcp, owslib, selenium, axe_selenium_python" 2>/dev/null; then
  { [ -x .venv/bin/python3 ] || python3 -m venv .venv; } \
    && .venv/bin/pip install --quiet "pyjwt>=2.8" "cryptography>=42" "schemathesis>=4.32,<5" "networkx>=3.2" "shapely>=2" "geographiclib>=2" "pyproj>=3.6" "highspy>=1.7" "ortools>=9.8" "mcp>=1.9" "owslib>=0.29" "selenium>=4.15" "axe-selenium-python>=2.1" \
    || { echo "could not make the test virtualenv"; echo "0 passed, 1 failed"; exit 1; }
fi
export CAIRN_TEST_PYTHON="$PWD/.venv/bin/python3"

# One format for every file (.swift-format, after Hummingbird's, lines up to 140): a file the
# formatter would change, or a lint rule it breaks, fails the run before anything is built.
if ! swift format lint --strict --recursive --parallel Sources Tests Package.swift; then
  echo "the sources are not formatted: run  swift format format --in-place --recursive --parallel Sources Tests Package.swift"
  echo "0 passed, 1 failed"
  exit 1
fi

# The API is described once (scripts/openapi.py): the served document and the agent tools' schemas
# are generated from it and committed, as the web console (console/) is compiled in by
# scripts/console.py; a generated file that does not match fails the run.
if ! python3 scripts/openapi.py --check || ! python3 scripts/console.py --check; then
  echo "0 passed, 1 failed"
  exit 1
fi

# The console's modules must parse (node, on this kind of machine, checks their syntax as modules).
if command -v node > /dev/null; then
  for f in console/*.js; do
    cp "$f" /tmp/cairn-console-check.mjs
    node --check /tmp/cairn-console-check.mjs 2>&1 | sed "s|/tmp/cairn-console-check.mjs|$f|" | grep . && { echo "0 passed, 1 failed"; exit 1; }
  done
  rm -f /tmp/cairn-console-check.mjs
fi

swift build --build-tests 2>&1 | tee /tmp/cairn-build.log | grep -E "error|warning:|Compiling|Build complete" | grep -v "^\[" | tail -n 50
build_status=${PIPESTATUS[0]}
if [ "$build_status" -ne 0 ]; then
  echo "build failed"; tail -n 40 /tmp/cairn-build.log
  echo "0 passed, 1 failed"
  exit 1
fi
if grep -E "^/.*warning:" /tmp/cairn-build.log | grep -v "/\.build/"; then
  echo "the build has warnings (Cairn builds warning-free)"
  echo "0 passed, 1 failed"
  exit 1
fi

# The storage suite runs twice: on SQLite, then on PostgreSQL against a throwaway cluster on
# loopback (started here, stopped on exit). Tests that need no store run once.
pgdir=$(mktemp -d /tmp/cairn-pg-XXXXXX)
# Every process the tests start inherits this marker; whatever still carries it at the end was
# left running by a test, and is named and stopped here, so the script leaves nothing behind.
export CAIRN_TEST_RUN_ID="run-$$-$RANDOM"
leftovers() {
  for env in /proc/[0-9]*/environ; do
    pid=${env#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    { tr '\0' '\n' < "$env"; } 2>/dev/null | grep -qx "CAIRN_TEST_RUN_ID=$CAIRN_TEST_RUN_ID" && echo "$pid"
  done
}
cleanup() {
  scripts/pg-cluster.sh stop "$pgdir"; rm -rf "$pgdir"
  left=$(leftovers)
  if [ -n "$left" ]; then
    echo "stopping processes the tests left running:"; ps -o pid=,args= -p $left 2>/dev/null | cut -c1-160
    kill -9 $left 2>/dev/null || true
  fi
}
trap cleanup EXIT
pgenv=$(scripts/pg-cluster.sh start "$pgdir") || { echo "could not start the PostgreSQL test cluster"; echo "0 passed, 1 failed"; exit 1; }
eval "$pgenv"

log=$(mktemp)
echo "== pass 1: every test, storage on SQLite"
swift test --skip-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
echo "== pass 2: the storage suite (store, governance, HTTP routes, surfaces) on PostgreSQL"
CAIRN_TEST_BACKEND=postgres swift test --skip-build --filter 'CairnStoreTests|CairnGovernanceTests|CairnEngineTests|CairnHTTPTests|CairnCLITests' 2>&1 | tee -a "$log"
pg_status=${PIPESTATUS[0]}
[ "$pg_status" -ne 0 ] && status=$pg_status
passed=$(grep -E '^✔ Test .* passed' "$log" | grep -cv '^✔ Test run' || true)
failed=$(grep -E '^✘ Test .* failed' "$log" | grep -cv '^✘ Test run' || true)
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
rm -f "$log"
cleanup
trap - EXIT
echo "${passed} passed, ${failed} failed"
exit "$status"
