# Shared by the fault tests (fault_*.sh): the real cds-service on a kernel-chosen loopback port,
# TLS with a fresh development CA, auth off (the faults are below authentication), its own audit
# file, and the load client (fault_client.py). Sourced after setting $build and $src.
# Sets $work (removed on exit), $pid, $port; fail() prints the service log's tail and exits 1.
set -euo pipefail
work=$(mktemp -d)
pid=""
fault_cleanup_extra() { :; }
fault_cleanup() {
  if [ -n "$pid" ]; then kill -9 "$pid" 2>/dev/null || true; fi
  jobs -p | xargs -r kill 2>/dev/null || true
  wait 2>/dev/null || true
  fault_cleanup_extra
  rm -rf "$work"
}
trap fault_cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- service log (last 30 lines)"
  tail -30 "$work/service.log" 2>/dev/null || true
  exit 1
}
client=(python3 "$src/tests/smoke/fault_client.py")
fixture="$src/tests/fixtures/requests/01-amniotic-fluid-order-sign-type3.json"
bash "$src/certs/make-dev-certs.sh" "$work/certs" >/dev/null

# write_config FILE AUDIT_DB [EXTRA_JSON_MEMBERS]
write_config() {
  cat >"$1" <<JSON
{ "tls": { "cert": "$work/certs/server.crt", "key": "$work/certs/server.key" }, "rules_dir": "$src/rules/data",
  "audit": { "db": "$2" }, "threads": 2, "auth": { "enabled": false }${3:+, $3} }
JSON
}

# start_service CONFIG [COMMAND PREFIX...]: starts it (log appended to $work/service.log) and
# waits for its port.
start_service() {
  local config=$1
  shift
  local lines=0
  [ -f "$work/service.log" ] && lines=$(wc -l <"$work/service.log")
  "$@" "$build/cds-service/cds-service" --config "$config" --listen 127.0.0.1:0 2>>"$work/service.log" &
  pid=$!
  port=""
  for _ in $(seq 1 300); do
    port=$(tail -n +"$((lines + 1))" "$work/service.log" | sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p')
    [ -n "$port" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "service exited at start"
    sleep 0.1
  done
  fail "service did not report its port"
}

# GET a path: prints the status code (000: no answer).
get_status() {
  curl -sS --max-time "${2:-5}" --cacert "$work/certs/ca.crt" -o /dev/null -w '%{http_code}' \
    "https://127.0.0.1:$port$1" 2>/dev/null || true
}
get_body() {
  curl -sS --max-time 5 --cacert "$work/certs/ca.crt" "https://127.0.0.1:$port$1" 2>/dev/null || true
}

# run_load ANSWERS PREFIX SECONDS [more fault_client.py options]: order-sign calls, in the background.
run_load() {
  local out=$1 prefix=$2 seconds=$3
  shift 3
  "${client[@]}" load --port "$port" --ca "$work/certs/ca.crt" --fixture "$fixture" --out "$out" \
    --prefix "$prefix" --seconds "$seconds" "$@" &
}

# check_acknowledged ANSWERS DB: every call answered 200 has exactly one audit row (outcome ok),
# and the database passes PRAGMA integrity_check. Prints the count checked.
check_acknowledged() {
  local answers=$1 db=$2
  [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "PRAGMA integrity_check of $db is not ok"
  awk '$2 == "200" {print $1}' "$answers" | sort >"$work/acked.txt"
  sqlite3 "$db" "SELECT hook_instance FROM invocation WHERE outcome = 'ok'" | sort >"$work/recorded.txt"
  local dup
  dup=$(uniq -d "$work/recorded.txt" | head -5)
  [ -z "$dup" ] || fail "hookInstances recorded twice: $dup"
  local missing
  missing=$(comm -23 "$work/acked.txt" "$work/recorded.txt" | head -5)
  [ -z "$missing" ] || fail "acknowledged (200) but not in the audit: $missing"
  wc -l <"$work/acked.txt"
}
