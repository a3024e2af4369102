#!/usr/bin/env bash
# Installs the system packages Cairn builds and tests with, only if missing (idempotent).
#   libpcre2-dev  bounded regular expressions for Grep and Glob
#   libsqlite3-dev, sqlite3  the embedded store (GRDB links the system SQLite) and test tooling
#   curl  the change-feed tests read server-sent events with it, as any client would
#   libglpk-dev  GLPK, the LP/MIP solver behind Solve (linked as a system library)
#   coinor-libcbc-dev  CBC, COIN-OR's branch-and-cut for MIPs (C API; solves in a worker process)
#   libproj-dev  PROJ, the coordinate transformations of import and the feature service (CRS)
#   libjs-leaflet  Leaflet, the web console's map (served from Debian's copy, never committed here)
#   postgresql  the shared backend's tests and benchmark run a throwaway cluster of it
#               (scripts/pg-cluster.sh); its client psql tampers with rows in one test
# Extra packages can be named as arguments: the tests add GDAL (gdal-bin: ogrinfo, ogr2ogr) and a
# headless browser (chromium, chromium-driver); the benchmark adds ripgrep and git.
set -euo pipefail
packages=(libpcre2-dev libsqlite3-dev sqlite3 curl libglpk-dev coinor-libcbc-dev libproj-dev libjs-leaflet postgresql "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
