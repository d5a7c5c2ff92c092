#!/usr/bin/env bash
# A throwaway PostgreSQL for the test suite: `tools/postgres.sh start` prints its
# SQLAlchemy URL, `tools/postgres.sh stop` ends it. Uses Debian's postgresql
# package; prints nothing and exits 3 when PostgreSQL is not installed.
set -euo pipefail
PORT="${WORKBENCH_PG_PORT:-54329}"
DIR="${WORKBENCH_PG_DIR:-${TMPDIR:-/tmp}/workbench-test-pg}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
[ -x "$BIN/initdb" ] || exit 3

as_pg() {
  # initdb and postgres refuse to run as root: use the package's postgres user then.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-start}" in
  start)
    if [ ! -f "$DIR/PG_VERSION" ]; then
      mkdir -p "$DIR"
      [ "$(id -u)" = 0 ] && chown postgres "$DIR"
      as_pg "$BIN/initdb" -D "$DIR" -U postgres -A trust --no-sync >"$DIR.initdb.log" 2>&1
    fi
    if ! as_pg "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
      as_pg "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w -t 60 start \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
    fi
    as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='workbench_test'" | grep -q 1 ||
      as_pg "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qc "CREATE DATABASE workbench_test" >/dev/null
    echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/workbench_test"
    ;;
  stop)
    as_pg "$BIN/pg_ctl" -D "$DIR" -m fast stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
