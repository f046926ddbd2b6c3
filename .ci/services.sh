#!/usr/bin/env bash
# Test services for CI and local runs: PostgreSQL, MariaDB and an S3 server (Swift + s3api).
# Sourced by .ci/run. Never uses systemd and never changes system configs or passwords:
# everything it starts lives under one temp dir ($SVC_DIR) and is stopped by services_stop.
#
#   services_start_bg    in the background: apt-get install what is missing, then reuse or start
#                        the servers (PostgreSQL and MariaDB while Swift starts in parallel)
#   services_wait        wait for that, print its log, export DJ_*, set SERVICES_FAILED
#   services_start       services_start_bg + services_wait
#   services_stop        stop everything that was started (found by its pid/data files under
#                        $SVC_DIR); quiet; safe to call twice and in an EXIT trap
#
# Environment knobs:
#   DJ_CI_FORCE_PRIVATE=1  ignore running system servers; start private PostgreSQL (5433) and
#                          MariaDB (3307) instances
#   DJ_CI_NO_S3=1          do not start Swift (S3 tests then skip locally, fail under CI=true)
#
# Exports: DJ_HOST DJ_PG_HOST DJ_PG_PORT DJ_PG_USER DJ_PG_PASS DJ_PG_DATABASE
#          DJ_MYSQL_HOST DJ_MYSQL_PORT DJ_MYSQL_USER DJ_MYSQL_PASS DJ_MYSQL_DATABASE
#          DJ_S3_ENDPOINT DJ_S3_ACCESS_KEY DJ_S3_SECRET_KEY DJ_S3_REGION
# SERVICES_FAILED counts services that could not be provided.

_ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=.ci/swift.sh
source "$_ci_dir/swift.sh"

SVC_DIR=${SVC_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/dj-ci-services.XXXXXX")}
mkdir -p "$SVC_DIR"
chmod 755 "$SVC_DIR" # the postgres, mysql and swift users must reach their subdirectories
_svc_bg_pid=
SERVICES_FAILED=0

_svc_log() { echo "services: $*" >&2; }

_svc_free_port() { # first free port >= $1
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

_svc_pg_bin() { # newest /usr/lib/postgresql/<ver>/bin that has initdb and pg_ctl
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

_svc_mysql_cli() { command -v mariadb || command -v mysql; }
_svc_mysqladmin() { command -v mariadb-admin || command -v mysqladmin; }
_svc_mariadbd() {
  local x
  for x in /usr/sbin/mariadbd /usr/sbin/mysqld; do [ -x "$x" ] && echo "$x" && return 0; done
  return 1
}

_svc_system_pg() {
  [ "${DJ_CI_FORCE_PRIVATE:-}" = 1 ] && return 1
  command -v psql >/dev/null 2>&1 &&
    PGCONNECT_TIMEOUT=5 psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -w -Atc 'select 1' \
      >/dev/null 2>&1
}

_svc_system_mysql() {
  [ "${DJ_CI_FORCE_PRIVATE:-}" = 1 ] && return 1
  command -v mysql >/dev/null 2>&1 &&
    mysql -h 127.0.0.1 -P 3306 -uroot --connect-timeout=5 -e 'select 1' >/dev/null 2>&1
}

# apt-get install whatever is missing for the servers that are not already running.
_svc_install() {
  local pkgs=()
  if ! _svc_system_pg; then
    { [ -n "$(_svc_pg_bin)" ] && command -v psql >/dev/null 2>&1; } ||
      pkgs+=(postgresql postgresql-client)
  fi
  if ! _svc_system_mysql; then
    { command -v mariadb-install-db >/dev/null 2>&1 && _svc_mariadbd >/dev/null &&
      [ -n "$(_svc_mysql_cli)" ] && [ -n "$(_svc_mysqladmin)" ]; } ||
      pkgs+=(mariadb-server mariadb-client)
  fi
  if [ "${DJ_CI_NO_S3:-}" != 1 ]; then
    local c
    for c in swift-proxy-server swift-object-server swift-container-server \
      swift-account-server memcached; do
      command -v "$c" >/dev/null 2>&1 || {
        pkgs+=(swift swift-proxy swift-object swift-container swift-account memcached)
        break
      }
    done
    [ -f /etc/swift/swift.conf ] || pkgs+=(swift)
  fi
  [ ${#pkgs[@]} -eq 0 ] && return 0
  local t0=$SECONDS rc=0
  _svc_log "apt-get install ${pkgs[*]}"
  {
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  } </dev/null >"$SVC_DIR/apt.log" 2>&1 || rc=$?
  _svc_log "apt-get: exit $rc after $((SECONDS - t0)) s"
  [ $rc -eq 0 ] || tail -20 "$SVC_DIR/apt.log" >&2
  _svc_apt_updated=1
  return $rc
}

# Used by swift.sh when it has to install on its own (not the case after _svc_install).
_apt() {
  [ -n "${_svc_apt_updated:-}" ] || {
    apt-get update -qq
    _svc_apt_updated=1
  }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

_svc_start_pg() {
  export DJ_PG_HOST=127.0.0.1 DJ_PG_USER=postgres DJ_PG_PASS= DJ_PG_DATABASE=test
  if _svc_system_pg; then
    export DJ_PG_PORT=5432
    _svc_log "PostgreSQL: using the running server on 127.0.0.1:5432"
  else
    local bin d=$SVC_DIR/pg port t0=$SECONDS
    bin=$(_svc_pg_bin) || {
      _svc_log "PostgreSQL: no initdb/pg_ctl under /usr/lib/postgresql"
      return 1
    }
    port=$(_svc_free_port 5433)
    rm -rf "$d"
    mkdir -p "$d"
    chown postgres:postgres "$d"
    runuser -u postgres -- "$bin/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$d/initdb.log" 2>&1 ||
      runuser -u postgres -- "$bin/initdb" -D "$d/data" -U postgres --auth=trust -E UTF8 \
        --no-locale >>"$d/initdb.log" 2>&1 || {
      _svc_log "PostgreSQL: initdb failed:"
      cat "$d/initdb.log" >&2
      return 1
    }
    runuser -u postgres -- "$bin/pg_ctl" -D "$d/data" -l "$d/server.log" -w -t 60 \
      -o "-p $port -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
      start >"$d/pg_ctl.log" 2>&1 || {
      _svc_log "PostgreSQL: pg_ctl start failed:"
      cat "$d/pg_ctl.log" "$d/server.log" >&2
      return 1
    }
    export DJ_PG_PORT=$port
    _svc_log "PostgreSQL: private instance ($bin) on 127.0.0.1:$port in $((SECONDS - t0)) s"
  fi
  local q=(psql -h 127.0.0.1 -p "$DJ_PG_PORT" -U postgres -d postgres -w -At)
  "${q[@]}" -c "select 1 from pg_database where datname = 'test'" | grep -q 1 ||
    "${q[@]}" -qc 'create database test' || return 1
}

_svc_start_mysql() {
  export DJ_MYSQL_HOST=127.0.0.1 DJ_MYSQL_USER=root DJ_MYSQL_PASS= DJ_MYSQL_DATABASE=test
  local cli
  cli=$(_svc_mysql_cli) || {
    _svc_log "MariaDB: no mysql/mariadb client"
    return 1
  }
  if _svc_system_mysql; then
    export DJ_MYSQL_PORT=3306
    "$cli" -h 127.0.0.1 -P 3306 -uroot -e 'SET GLOBAL max_allowed_packet=1073741824' ||
      _svc_log "MariaDB: could not raise max_allowed_packet on the system server"
    _svc_log "MariaDB: using the running server on 127.0.0.1:3306"
  else
    local d=$SVC_DIR/my port t0=$SECONDS mysqld admin
    mysqld=$(_svc_mariadbd) || {
      _svc_log "MariaDB: no mariadbd"
      return 1
    }
    admin=$(_svc_mysqladmin)
    port=$(_svc_free_port 3307)
    rm -rf "$d"
    mkdir -p "$d"
    chown mysql:mysql "$d"
    mariadb-install-db --no-defaults --user=mysql --datadir="$d/data" \
      --auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1 || {
      _svc_log "MariaDB: mariadb-install-db failed:"
      cat "$d/install.log" >&2
      return 1
    }
    start-stop-daemon --start --background --make-pidfile --pidfile "$d/mariadbd.pid" \
      --chuid mysql --exec "$mysqld" -- \
      --no-defaults --datadir="$d/data" --socket="$d/mysqld.sock" --pid-file="$d/data/mariadbd.pid" \
      --port="$port" --bind-address=127.0.0.1 \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
      --max-allowed-packet=1G --innodb-log-file-size=512M --innodb-buffer-pool-size=512M \
      --innodb-flush-log-at-trx-commit=0 --log-error="$d/error.log" || {
      _svc_log "MariaDB: start-stop-daemon failed"
      return 1
    }
    local i
    for i in $(seq 1 120); do
      "$admin" -h 127.0.0.1 -P "$port" -uroot --connect-timeout=2 ping >/dev/null 2>&1 && break
      if ! kill -0 "$(cat "$d/mariadbd.pid" 2>/dev/null)" 2>/dev/null; then
        _svc_log "MariaDB: mariadbd exited:"
        cat "$d/error.log" >&2
        return 1
      fi
      sleep 0.25
    done
    export DJ_MYSQL_PORT=$port
    _svc_log "MariaDB: private instance on 127.0.0.1:$port in $((SECONDS - t0)) s"
  fi
  "$cli" -h 127.0.0.1 -P "$DJ_MYSQL_PORT" -uroot -e 'CREATE DATABASE IF NOT EXISTS test'
}

_svc_run_all() { # body of the background job started by services_start_bg
  local t0=$SECONDS failed=0 swift_pid=
  export DJ_HOST=127.0.0.1
  _svc_install || _svc_log "apt-get failed; trying with what is installed"
  if [ "${DJ_CI_NO_S3:-}" != 1 ]; then
    (swift_start "$SVC_DIR/swift" && echo "$SWIFT_PORT" >"$SVC_DIR/swift.port") &
    swift_pid=$!
  fi
  _svc_start_pg || {
    _svc_log "PostgreSQL: FAILED"
    failed=$((failed + 1))
  }
  _svc_start_mysql || {
    _svc_log "MariaDB: FAILED"
    failed=$((failed + 1))
  }
  export DJ_S3_ACCESS_KEY=test:tester DJ_S3_SECRET_KEY=testing DJ_S3_REGION=us-east-1
  if [ -z "$swift_pid" ]; then
    _svc_log "S3: not started (DJ_CI_NO_S3=1)"
  elif wait "$swift_pid" && [ -s "$SVC_DIR/swift.port" ]; then
    export DJ_S3_ENDPOINT="http://127.0.0.1:$(cat "$SVC_DIR/swift.port")"
  else
    _svc_log "S3 (Swift): FAILED"
    failed=$((failed + 1))
  fi
  {
    export -p | sed -n 's/^declare -x \(DJ_[A-Za-z0-9_]*=\)/export \1/p'
    echo "SERVICES_FAILED=$failed"
  } >"$SVC_DIR/env.sh"
  _svc_log "ready in $((SECONDS - t0)) s ($failed failed)"
}

services_start_bg() {
  _svc_run_all </dev/null >"$SVC_DIR/services.log" 2>&1 &
  _svc_bg_pid=$!
}

services_wait() {
  [ -n "$_svc_bg_pid" ] || return 0
  wait "$_svc_bg_pid"
  _svc_bg_pid=
  cat "$SVC_DIR/services.log" >&2
  if [ -f "$SVC_DIR/env.sh" ]; then
    # shellcheck source=/dev/null
    source "$SVC_DIR/env.sh"
  else
    _svc_log "the services job died"
    SERVICES_FAILED=$((SERVICES_FAILED + 1))
  fi
  return 0
}

services_start() {
  services_start_bg
  services_wait
}

services_stop() {
  local pid i bin
  if [ -n "$_svc_bg_pid" ]; then
    # Let a start in progress finish (bounded), so that nothing comes up after the stop.
    for i in $(seq 1 600); do
      kill -0 "$_svc_bg_pid" 2>/dev/null || break
      sleep 0.5
    done
    kill "$_svc_bg_pid" 2>/dev/null
    wait "$_svc_bg_pid" 2>/dev/null
    _svc_bg_pid=
  fi
  [ -d "$SVC_DIR" ] || return 0
  if [ -f "$SVC_DIR/pg/data/postmaster.pid" ] && bin=$(_svc_pg_bin); then
    runuser -u postgres -- "$bin/pg_ctl" -D "$SVC_DIR/pg/data" -m fast -w -t 30 stop \
      >/dev/null 2>&1
  fi
  pid=$(cat "$SVC_DIR/my/mariadbd.pid" 2>/dev/null)
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null
    for i in $(seq 1 120); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -KILL "$pid" 2>/dev/null
  fi
  [ -d "$SVC_DIR/swift" ] && swift_stop "$SVC_DIR/swift" >/dev/null 2>&1
  rm -rf "$SVC_DIR"
  return 0
}
