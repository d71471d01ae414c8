#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: initdb in DIR, the server on a free loopback
# port with its unix socket in DIR, run as an unprivileged user (initdb refuses root; CI runs
# as root). Writes the connection URI to DIR/uri.
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
  local port=$1
  as_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" start >/dev/null \
    || { echo "pg_cluster: server did not start; its log:" >&2; tail -20 "$dir/server.log" >&2; exit 1; }
}

case "$action" in
  start)
    if [ -f "$dir/data/postmaster.pid" ]; then as_user "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; fi
    rm -rf "$dir"
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown cdspgtest "$dir"
    chmod 700 "$dir"
    # Bytewise text order and UTF-8, whatever the machine's locale.
    as_user "$bin/initdb" -D "$dir/data" -U cds --auth=trust --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 \
      || { echo "pg_cluster: initdb failed:" >&2; tail -20 "$dir/initdb.log" >&2; exit 1; }
    port=$(free_port)
    server_start "$port"
    as_user "$bin/createdb" -h "$dir" -p "$port" -U cds cds_test
    echo "$port" >"$dir/port"
    echo "postgresql://cds@127.0.0.1:$port/cds_test" >"$dir/uri"
    chmod 755 "$dir"  # the tests (any user) read the uri file
    echo "pg_cluster: started $(cat "$dir/uri")"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true; fi
    rm -rf "$dir"
    ;;
  restart)
    as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    server_start "$(cat "$dir/port")"
    ;;
  down) as_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
  up) server_start "$(cat "$dir/port")" ;;
  *) echo "usage: pg_cluster.sh start|stop|restart|down|up DIR" >&2; exit 2 ;;
esac
