#!/usr/bin/env bash
# Fault: a flood of idle connections past the service's open-file limit (lowered with prlimit to
# 256, soft and hard, so the service cannot raise it). With the default connection cap (derived
# from that limit) the service closes the longest-idle connections to make room: a legitimate
# call on a new connection is answered, and the log stays small. With the cap misconfigured
# above the limit, accept() runs out of descriptors: the service pauses accepting (no busy loop,
# a handful of log lines with a count), and serves again once the flood lets go.
# Usage: fault_flood.sh BUILD_DIR SOURCE_DIR
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
source "$src/tests/smoke/fault_lib.sh"
command -v prlimit >/dev/null || fail "prlimit (util-linux) is needed"
limit=(prlimit --nofile=256:256)
flood=400

legitimate_call() {  # prints "<status> <ms>"
  "${client[@]}" call --port "$port" --ca "$work/certs/ca.crt" --fixture "$fixture" --hook-instance "$1" --timeout 15
}
metric() { get_body /metrics | awk -v m="$1" '$1 == m {print $2}'; }

# 1. The default cap: room is made by closing idle connections.
write_config "$work/config.json" "$work/audit.db"
start_service "$work/config.json" "${limit[@]}"
grep -q "open-file limit 256 (the hard limit)" "$work/service.log" || fail "the service did not run with the lowered limit"
lines_before=$(wc -l <"$work/service.log")
"${client[@]}" hold --port "$port" --count "$flood" --seconds 30 --ready "$work/held" &
holder=$!
for _ in $(seq 1 100); do [ -f "$work/held" ] && break; sleep 0.1; done
[ -f "$work/held" ] || fail "the flood did not connect"
held=$(cat "$work/held")
[ "$held" -ge 300 ] || fail "only $held flood connections were made"
for i in 1 2 3; do
  answer=$(legitimate_call "legit-$i")
  echo "flood of $held idle connections (open-file limit 256): legitimate call $i answered ${answer%% *} in ${answer##* } ms"
  [ "${answer%% *}" = 200 ] || fail "legitimate call $i during the flood: ${answer}"
  # The target is 1 s (README, bench/soak); 5 s here only tells "answered" from "left waiting
  # for the 60 s idle time-out" on a loaded CI machine under ASan.
  [ "${answer##* }" -lt 5000 ] || fail "legitimate call $i took ${answer##* } ms during the flood"
done
open=$(metric cds_connections_open) cap=$(metric cds_connections_max) evicted=$(metric cds_connections_evicted_total)
echo "connections open $open, cap $cap, evicted $evicted"
[ "$cap" -lt 256 ] || fail "the default cap ($cap) is not below the open-file limit"
[ "$open" -le "$((cap + 32))" ] || fail "$open connections open, over the cap $cap"
[ "$evicted" -ge "$((held - cap))" ] || fail "only $evicted idle connections were closed to make room"
flood_lines=$(( $(wc -l <"$work/service.log") - lines_before ))
[ "$flood_lines" -le 20 ] || fail "$flood_lines log lines during the flood"
kill "$holder" 2>/dev/null || true
wait "$holder" 2>/dev/null || true
kill "$pid"
wait "$pid" || fail "the service did not exit 0 on SIGTERM"
pid=""

# 2. A cap above the limit: accept() fails with EMFILE and backs off.
write_config "$work/over.json" "$work/audit.db" '"limits": { "max_connections": 5000 }'
start_service "$work/over.json" "${limit[@]}"
lines_before=$(wc -l <"$work/service.log")
rm -f "$work/held"
"${client[@]}" hold --port "$port" --count "$flood" --seconds 6 --ready "$work/held" &
holder=$!
for _ in $(seq 1 100); do [ -f "$work/held" ] && break; sleep 0.1; done
sleep 4  # the service out of descriptors for ~4 s, with connections waiting to be accepted
cpu_before=$(awk '{print $14 + $15}' "/proc/$pid/stat")
sleep 1
cpu_after=$(awk '{print $14 + $15}' "/proc/$pid/stat")
wait "$holder" 2>/dev/null || true
answer=""
for i in $(seq 1 30); do
  answer=$(legitimate_call "after-flood-$i")
  [ "${answer%% *}" = 200 ] && break
  sleep 0.5
done
[ "${answer%% *}" = 200 ] || fail "no call answered after the flood let go: $answer"
grep -q "accept: Too many open files" "$work/service.log" || fail "the flood did not exhaust the descriptors"
pauses=$(metric cds_accept_pauses_total)
emfile_lines=$(tail -n +"$((lines_before + 1))" "$work/service.log" | grep -c "accept: Too many open files" || true)
total_lines=$(( $(wc -l <"$work/service.log") - lines_before ))
ticks=$((cpu_after - cpu_before))
echo "descriptors exhausted: $pauses accept pauses, $emfile_lines EMFILE log lines ($total_lines in all), $ticks CPU ticks in 1 s"
[ "$pauses" -ge 1 ] || fail "accept never paused"
grep -q "accepting again after [0-9,]* pauses" "$work/service.log" || fail "the log does not say when accepting resumed"
[ "$total_lines" -le 40 ] || fail "$total_lines log lines in ~6 s of descriptor exhaustion: not rate-limited"
# A busy accept loop burns a whole core (~100 ticks a second); pauses of up to 1 s burn nearly none.
[ "$ticks" -le 50 ] || fail "the service used $ticks CPU ticks in 1 s while out of descriptors: a busy loop"
kill "$pid"
wait "$pid" || fail "the service did not exit 0 on SIGTERM"
pid=""
echo "connection flood: answered while flooded, bounded log, accept backs off when out of descriptors"
