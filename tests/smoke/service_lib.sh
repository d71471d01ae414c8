# Shared by the smoke tests: start the real cds-service on a kernel-chosen loopback port.
# Needs $build, $work and a fail() function; sets $pid and $port.
start_service() {  # start_service CONFIG_FILE
  "$build/cds-service/cds-service" --config "$1" --listen 127.0.0.1:0 2>"$work/service.log" &
  pid=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/service.log")
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "service exited at start"
    sleep 0.1
  done
  fail "service did not report its port"
}
