#!/usr/bin/env bash
# A throw-away Postgres cluster for the tests: a temp folder owned by the `postgres` user, a free port
# on 127.0.0.1, one database and one user with a password (allowed to create databases: a test file may use its own). It exports
#   STRATA_TEST_POSTGRES_URL=postgres://strata:<password>@127.0.0.1:<port>/strata_test
#
# Usage:
#   tests/postgres-cluster.sh run -- npm test    start, run the command with the URL set, stop (also on failure)
#   source tests/postgres-cluster.sh start       start and export the URL into this shell (by hand)
#   source tests/postgres-cluster.sh stop        stop it and remove its folder
#
# Installs Debian's `postgresql` when `initdb` is missing (as root, or with `sudo -n`).

strata_pg_find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
  done
  command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
  return 1
}

strata_pg_install() {
  local as_root=""
  [ "$(id -u)" -eq 0 ] || as_root="sudo -n"
  echo "postgres-cluster: installing postgresql (apt-get)" >&2
  $as_root apt-get install -y --no-install-recommends postgresql >/tmp/strata-ci-postgres.log 2>&1 ||
    { $as_root apt-get update >>/tmp/strata-ci-postgres.log 2>&1 &&
      $as_root apt-get install -y --no-install-recommends postgresql >>/tmp/strata-ci-postgres.log 2>&1; }
}

# Runs a command as the `postgres` user when we are root (initdb refuses root), else as ourselves.
strata_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

strata_pg_free_port() {
  node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

strata_pg_start() {
  local bin
  bin="$(strata_pg_find_bin)" || { strata_pg_install && bin="$(strata_pg_find_bin)"; } || {
    echo "postgres-cluster: no initdb and postgresql could not be installed (see /tmp/strata-ci-postgres.log)" >&2
    return 1
  }
  local dir port password
  dir="$(mktemp -d /tmp/strata-pg.XXXXXX)"
  port="$(strata_pg_free_port)"
  password="strata-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  strata_pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { echo "postgres-cluster: initdb failed:" >&2; cat "$dir/initdb.log" >&2; return 1; }
  # max_connections: test files may run side by side (vitest.config.ts), and one may start several CLI workers,
  # each with a storage pool, a warehouse pool and a listener.
  strata_pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off -c max_connections=300" start >/dev/null ||
    { echo "postgres-cluster: the server did not start:" >&2; cat "$dir/server.log" >&2; return 1; }
  strata_pg_as_owner "$bin/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -q \
    -c "create user strata with password '$password' createdb" -c "create database strata_test owner strata" >/dev/null ||
    { echo "postgres-cluster: could not create the user and database" >&2; return 1; }
  # Password logins over TCP from now on (the socket stays trusted for the owner).
  echo "host all all 127.0.0.1/32 scram-sha-256" >"$dir/data/pg_hba.conf"
  echo "local all postgres trust" >>"$dir/data/pg_hba.conf"
  strata_pg_as_owner "$bin/pg_ctl" -D "$dir/data" reload >/dev/null
  export STRATA_TEST_POSTGRES_DIR="$dir"
  export STRATA_TEST_POSTGRES_BIN="$bin"
  export STRATA_TEST_POSTGRES_URL="postgres://strata:$password@127.0.0.1:$port/strata_test"
  echo "postgres-cluster: started on 127.0.0.1:$port ($dir); STRATA_TEST_POSTGRES_URL is set" >&2
}

strata_pg_stop() {
  local dir="${STRATA_TEST_POSTGRES_DIR:-}"
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  strata_pg_as_owner "${STRATA_TEST_POSTGRES_BIN:-$(strata_pg_find_bin)}/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  unset STRATA_TEST_POSTGRES_DIR STRATA_TEST_POSTGRES_URL STRATA_TEST_POSTGRES_BIN
  echo "postgres-cluster: stopped" >&2
}

case "${1:-}" in
  start) strata_pg_start ;;
  stop) strata_pg_stop ;;
  run)
    shift
    [ "${1:-}" = "--" ] && shift
    strata_pg_start || exit 1
    trap strata_pg_stop EXIT
    "$@"
    ;;
  *) echo "usage: tests/postgres-cluster.sh run -- COMMAND... | source tests/postgres-cluster.sh start|stop" >&2 ;;
esac
