#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for the tests and the benchmark.
#   scripts/pg-cluster.sh start DIR   makes and starts a cluster in DIR (a new, empty folder);
#                                     prints `export` lines for CAIRN_TEST_POSTGRES_URL and
#                                     CAIRN_DATABASE_PASSWORD_FILE
#   scripts/pg-cluster.sh stop DIR    stops it (the caller removes DIR)
# PostgreSQL comes from Debian's packages (scripts/install-deps.sh postgresql). The cluster
# uses password authentication (SCRAM) with a random password kept in DIR/password, fsync on,
# and listens on 127.0.0.1 only, on a free port.
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?a folder for the cluster}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (scripts/install-deps.sh postgresql)" >&2; exit 1; }

# initdb refuses to run as root: run the server as the postgres user Debian's package made.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir/password"
  chmod 600 "$dir/password"
  as_owner "$bin/initdb" -D "$dir/data" -U cairn --auth=scram-sha-256 --pwfile="$dir/password" -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $dir -c max_connections=1000 -c shared_buffers=128MB -c fsync=on -c synchronous_commit=on" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "export CAIRN_TEST_POSTGRES_URL=postgres://cairn@127.0.0.1:$port/postgres"
  echo "export CAIRN_DATABASE_PASSWORD_FILE=$dir/password"
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  ;;
*)
  echo "usage: scripts/pg-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
