#!/usr/bin/env bash
# Faults an operator sends: SIGHUP (reload) five times under load fails no call; SIGTERM under
# load stops accepting, lets the call in progress finish (a body still arriving when the signal
# comes), exits 0 within the drain deadline, and every call answered 200 is in the audit.
# Usage: fault_signals.sh BUILD_DIR SOURCE_DIR
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
source "$src/tests/smoke/fault_lib.sh"

write_config "$work/config.json" "$work/audit.db" '"limits": { "drain_timeout_ms": 8000 }'
start_service "$work/config.json"

# SIGHUP x5 under load.
run_load "$work/hup.txt" hup 6 --threads 4
load_pid=$!
for _ in 1 2 3 4 5; do
  sleep 1
  kill -HUP "$pid"
done
wait "$load_pid"
calls=$(wc -l <"$work/hup.txt")
bad=$(awk '$2 != "200"' "$work/hup.txt" | wc -l)
reloads=$(grep -c "reloaded rules, keys and TLS certificate" "$work/service.log" || true)
echo "SIGHUP x5 under load: $calls calls, $bad not answered 200, $reloads reloads"
[ "$calls" -ge 20 ] || fail "only $calls calls under SIGHUP"
[ "$bad" = 0 ] || fail "$bad calls failed under SIGHUP: $(awk '$2 != "200"' "$work/hup.txt" | head -3 | tr '\n' ' ')"
[ "$reloads" = 5 ] || fail "$reloads reloads logged for 5 SIGHUPs"

# SIGTERM under load, with one call's body still arriving.
run_load "$work/term.txt" term 30 --threads 4 --give-up-after 3
load_pid=$!
sleep 1
"${client[@]}" slow --port "$port" --ca "$work/certs/ca.crt" --fixture "$fixture" --hook-instance term-slow \
  --pause 1.5 --ready "$work/half-sent" >"$work/slow.txt" &
slow_pid=$!
for _ in $(seq 1 100); do [ -f "$work/half-sent" ] && break; sleep 0.05; done
[ -f "$work/half-sent" ] || fail "the slow call did not start"
sleep 0.2
started=$(date +%s%N)
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
pid=""
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
wait "$slow_pid" || true
wait "$load_pid" || true
echo "SIGTERM under load: exit $code after $elapsed_ms ms; the call in progress got $(cat "$work/slow.txt")"
[ "$code" = 0 ] || fail "exit status $code after SIGTERM"
[ "$elapsed_ms" -lt 8000 ] || fail "took $elapsed_ms ms to stop (drain deadline 8000 ms)"
[ "$(cat "$work/slow.txt")" = 200 ] || fail "the call in progress at SIGTERM got $(cat "$work/slow.txt"), not 200"
grep -q "drained: every call in progress was answered" "$work/service.log" || fail "the drain did not finish"
other=$(awk '$2 != "200" && $2 != "000"' "$work/term.txt" | wc -l)
[ "$other" = 0 ] || fail "$other calls got an error status during shutdown"
echo "term-slow 200 0" >>"$work/term.txt"
cat "$work/hup.txt" >>"$work/term.txt"
checked=$(check_acknowledged "$work/term.txt" "$work/audit.db")
echo "signals: SIGHUP fails no call; SIGTERM drains and exits 0; $checked acknowledged calls recorded once"
