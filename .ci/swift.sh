#!/usr/bin/env bash
# OpenStack Swift + s3api (real AWS signature checks) as a throw-away, single-node S3 server.
#
# Sourced by .ci/services.sh (or run directly: `bash .ci/swift.sh start|stop DIR`).
#   swift_start DIR   installs the Debian packages when missing, writes configs and 1-replica
#                     rings under DIR, starts memcached + account/container/object/proxy servers
#                     in the background (pidfiles in DIR/run), waits for /healthcheck, and sets
#                     SWIFT_PORT (proxy port: 8080, or a free port when 8080 is taken).
#   swift_stop DIR    stops everything started by swift_start (by pidfile) and removes DIR.
# S3 credentials: access key `test:tester`, secret `testing`, region us-east-1.
# Needs root (apt-get, and the Swift servers drop privileges to user `swift`).

# True when nothing listens on 127.0.0.1:$1.
_swift_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when GET http://127.0.0.1:$1/healthcheck answers 200. Plain bash (/dev/tcp), because a
# fresh machine may have no curl or wget.
_swift_healthy() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'GET /healthcheck HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
    IFS= read -r -t 5 status <&3 || exit 1
    [[ $status == "HTTP/"*" 200"* ]]
  ) 2>/dev/null
}

# Prints the first free port >= $1 that is not among the remaining arguments.
_swift_free_port() {
  local p=$1 taken
  shift
  taken=" $* "
  while [[ $taken == *" $p "* ]] || ! _swift_port_free "$p"; do p=$((p + 1)); done
  echo "$p"
}

_swift_install() {
  local need=()
  command -v swift-proxy-server >/dev/null 2>&1 || need+=(swift swift-proxy)
  command -v swift-object-server >/dev/null 2>&1 || need+=(swift-object)
  command -v swift-container-server >/dev/null 2>&1 || need+=(swift-container)
  command -v swift-account-server >/dev/null 2>&1 || need+=(swift-account)
  command -v swift-ring-builder >/dev/null 2>&1 || need+=(swift)
  command -v memcached >/dev/null 2>&1 || need+=(memcached)
  [ -f /etc/swift/swift.conf ] || need+=(swift)
  [ ${#need[@]} -eq 0 ] && return 0
  echo "swift: installing ${need[*]} from apt" >&2
  if declare -F _apt >/dev/null; then
    _apt swift swift-proxy swift-object swift-container swift-account memcached
  else
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        swift swift-proxy swift-object swift-container swift-account memcached >/dev/null
  fi
}

_swift_server_conf() { # kind port dir
  cat <<EOF
[DEFAULT]
devices = $3/node
mount_check = false
bind_ip = 127.0.0.1
bind_port = $2
workers = 0
user = swift
swift_dir = $3/etc
log_name = $1-server
log_level = WARNING

[pipeline:main]
pipeline = $1-server

[app:$1-server]
use = egg:swift#$1
EOF
  if [ "$1" = object ]; then
    printf '\n[object-replicator]\n\n[object-updater]\n\n[object-auditor]\n'
  elif [ "$1" = container ]; then
    printf '\n[container-replicator]\n\n[container-updater]\n\n[container-auditor]\n'
  else
    printf '\n[account-replicator]\n\n[account-auditor]\n\n[account-reaper]\n'
  fi
}

_swift_proxy_conf() { # port memcached_port dir
  cat <<EOF
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = $1
workers = 0
user = swift
swift_dir = $3/etc
log_name = proxy-server
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
allow_account_management = true
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:$2

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:bulk]
use = egg:swift#bulk

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
EOF
}

# Starts one background process with output to DIR/log/NAME.log and its pid in DIR/run/NAME.pid.
_swift_bg() { # dir name cmd...
  local d=$1 name=$2
  shift 2
  # The child writes its own pid (then execs), so the pidfile is right even if setsid forks.
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$d/run/$name.pid" "$@" </dev/null >"$d/log/$name.log" 2>&1 &
  local i
  for i in $(seq 1 50); do
    [ -s "$d/run/$name.pid" ] && return 0
    sleep 0.02
  done
}

swift_start() {
  local d=${1:?swift_start DIR} t0=$SECONDS
  _swift_install || {
    echo "swift: apt install failed" >&2
    return 1
  }
  rm -rf "$d"
  mkdir -p "$d/etc" "$d/node/d1" "$d/run" "$d/log" "$d/cache"

  local proxy mc obj cont acct
  proxy=$(_swift_free_port "${SWIFT_PORT:-8080}")
  mc=$(_swift_free_port 11211 "$proxy")
  obj=$(_swift_free_port 6200 "$proxy" "$mc")
  cont=$(_swift_free_port 6201 "$proxy" "$mc" "$obj")
  acct=$(_swift_free_port 6202 "$proxy" "$mc" "$obj" "$cont")

  _swift_server_conf account "$acct" "$d" >"$d/etc/account-server.conf"
  _swift_server_conf container "$cont" "$d" >"$d/etc/container-server.conf"
  _swift_server_conf object "$obj" "$d" >"$d/etc/object-server.conf"
  _swift_proxy_conf "$proxy" "$mc" "$d" >"$d/etc/proxy-server.conf"

  # One Python process builds the three 1-replica rings (swift-ring-builder would need 9).
  /usr/bin/python3 - "$d/etc" "$acct" "$cont" "$obj" >"$d/log/rings.log" 2>&1 <<'PY' || {
import sys
from swift.common.ring import RingBuilder
etc, ports = sys.argv[1], dict(zip(("account", "container", "object"), map(int, sys.argv[2:5])))
for kind, port in ports.items():
    b = RingBuilder(8, 1, 1)
    b.add_dev({"id": 0, "region": 1, "zone": 1, "ip": "127.0.0.1", "port": port,
               "replication_ip": "127.0.0.1", "replication_port": port,
               "device": "d1", "weight": 1, "meta": ""})
    b.rebalance()
    b.save(f"{etc}/{kind}.builder")
    b.get_ring().save(f"{etc}/{kind}.ring.gz")
PY
    echo "swift: ring build failed:" >&2
    cat "$d/log/rings.log" >&2
    return 1
  }
  chown -R swift:swift "$d"

  local mcuser=memcache
  id -u memcache >/dev/null 2>&1 || mcuser=nobody
  _swift_bg "$d" memcached memcached -u "$mcuser" -l 127.0.0.1 -p "$mc" -U 0 -m 64
  local kind
  for kind in account container object proxy; do
    # EVENTLET_NO_GREENDNS: skip importing dnspython (saves ~1.5 s per server; loopback only).
    EVENTLET_NO_GREENDNS=yes _swift_bg "$d" "$kind" "swift-$kind-server" "$d/etc/$kind-server.conf"
  done

  local i
  for i in $(seq 1 120); do
    if _swift_healthy "$proxy"; then
      # The proxy answers before the backends listen: wait for those too.
      if ! _swift_port_free "$acct" && ! _swift_port_free "$cont" && ! _swift_port_free "$obj"; then
        SWIFT_PORT=$proxy
        export SWIFT_PORT
        echo "swift: S3 on http://127.0.0.1:$proxy (started in $((SECONDS - t0)) s)" >&2
        return 0
      fi
    fi
    for kind in memcached account container object proxy; do
      if ! kill -0 "$(cat "$d/run/$kind.pid")" 2>/dev/null; then
        echo "swift: $kind exited early; its log:" >&2
        cat "$d/log/$kind.log" >&2
        swift_stop "$d"
        return 1
      fi
    done
    sleep 0.25
  done
  echo "swift: no healthcheck answer on port $proxy after 30 s" >&2
  swift_stop "$d"
  return 1
}

swift_stop() {
  local d=${1:?swift_stop DIR} f pid pids=()
  [ -d "$d/run" ] || return 0
  for f in "$d"/run/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    # setsid made each server a process-group leader: signal the whole group (workers too).
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    pids+=("$pid")
  done
  local i
  for i in $(seq 1 40); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.25
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$d"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -uo pipefail
  case ${1:-} in
    start) swift_start "${2:-${TMPDIR:-/tmp}/dj-swift}" && echo "SWIFT_PORT=$SWIFT_PORT" ;;
    stop) swift_stop "${2:-${TMPDIR:-/tmp}/dj-swift}" ;;
    *)
      echo "usage: $0 start|stop [DIR]" >&2
      exit 2
      ;;
  esac
fi
