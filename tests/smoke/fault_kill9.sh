#!/usr/bin/env bash
# Fault: kill -9 under load, three times over one audit file. After each kill the service
# restarts on the same file; the database passes PRAGMA integrity_check and every call that was
# answered 200 before the kill has exactly one audit row (acknowledged means committed).
# Usage: fault_kill9.sh BUILD_DIR SOURCE_DIR
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
source "$src/tests/smoke/fault_lib.sh"

write_config "$work/config.json" "$work/audit.db"
total=0
for round in 1 2 3; do
  start_service "$work/config.json"
  [ "$(get_status /readyz)" = 200 ] || fail "round $round: not ready after a restart"
  run_load "$work/answers.txt" "kill$round" 20 --threads 4 --give-up-after 3
  load_pid=$!
  sleep 2.5
  kill -9 "$pid"
  wait "$pid" 2>/dev/null || true
  pid=""
  wait "$load_pid" || fail "round $round: the load client failed"
  acked=$(awk -v p="kill$round-" '$2 == "200" && index($1, p) == 1' "$work/answers.txt" | wc -l)
  [ "$acked" -ge 5 ] || fail "round $round: only $acked calls answered before the kill: proves nothing"
  total=$((total + acked))
done
start_service "$work/config.json"  # the file a killed service left opens, and serves
[ "$(get_status /readyz)" = 200 ] || fail "not ready after the last restart"
checked=$(check_acknowledged "$work/answers.txt" "$work/audit.db")
echo "kill -9 under load x3: all $checked acknowledged calls recorded once ($total in the rounds), integrity ok"
