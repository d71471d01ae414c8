#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: initdb in a fresh directory under /tmp (which
# the unprivileged server user can reach, wherever DIR is), the server on a free loopback port
# with its unix socket there, run as that user (initdb refuses root; CI runs as root). DIR gets
# the connection URI (DIR/uri), the port and where the cluster lives.
#   pg_cluster.sh start DIR    start (a cluster already running in DIR is stopped first)
#   pg_cluster.sh stop DIR     stop it and remove DIR
#   pg_cluster.sh restart DIR  stop and start the server again (same data, same port)
#   pg_cluster.sh down DIR     stop the server only (an outage); `up DIR` starts it again
# Fails loudly (non-zero) when PostgreSQL cannot be started: the tests that need it then fail.
set -euo pipefail
action=${1:?usage: pg_cluster.sh start|stop|restart|down|up DIR}
dir=${2:?usage: pg_cluster.sh start|stop|restart DIR}
bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$bin/initdb" ] || { echo "pg_cluster: no PostgreSQL server binaries (install deploy/install-deps.sh's postgresql)" >&2; exit 1; }

# As root, the server runs as a dedicated system user; otherwise as whoever runs the tests.
as_user() { if [ "$(id -u)" -eq 0 ]; then runuser -u cdspgtest -- "$@"; else "$@"; fi; }
if [ "$(id -u)" -eq 0 ] && ! id cdspgtest >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin cdspgtest
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

server_start() {
  local port=$1 data
  data=$(cat "$dir/cluster")
  as_user "$bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w -t 60 \
    -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start >/dev/null \
    || { echo "pg_cluster: server did not start; its log:" >&2; tail -20 "$data/server.log" >&2; exit 1; }
}
pg_ctl_stop() {  # pg_ctl_stop MODE: stop the server if one runs
  [ -f "$dir/cluster" ] || return 0
  local data
  data=$(cat "$dir/cluster")
  [ -f "$data/data/postmaster.pid" ] || return 0
  as_user "$bin/pg_ctl" -D "$data/data" -m "$1" -w stop >/dev/null
}
remove() {
  pg_ctl_stop immediate 2>/dev/null || true
  [ -f "$dir/cluster" ] && rm -rf "$(cat "$dir/cluster")"
  rm -rf "$dir"
}

case "$action" in
  start)
    remove
    mkdir -p "$dir"
    data=$(mktemp -d /tmp/cds-pg.XXXXXX)
    echo "$data" >"$dir/cluster"
    [ "$(id -u)" -eq 0 ] && chown cdspgtest "$data"
    chmod 700 "$data"
    # Bytewise text order and UTF-8, whatever the machine's locale.
    as_user "$bin/initdb" -D "$data/data" -U cds --auth=trust --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { echo "pg_cluster: initdb failed:" >&2; tail -20 "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    server_start "$port"
    as_user "$bin/createdb" -h "$data" -p "$port" -U cds cds_test
    echo "$port" >"$dir/port"
    echo "postgresql://cds@127.0.0.1:$port/cds_test" >"$dir/uri"
    echo "pg_cluster: started $(cat "$dir/uri")"
    ;;
  stop) pg_ctl_stop fast || true; remove ;;
  restart) pg_ctl_stop fast; server_start "$(cat "$dir/port")" ;;
  down) pg_ctl_stop fast ;;
  up) server_start "$(cat "$dir/port")" ;;
  *) echo "usage: pg_cluster.sh start|stop|restart|down|up DIR" >&2; exit 2 ;;
esac
