#!/usr/bin/env bash
# Soak: the real cds-service under steady load at half its measured capacity for a long time
# (30 minutes by default), sampling errors, RSS, open files, connections and audit rows every
# 10 s into a CSV, then a plot of them. At the end every call answered 200 must be in the audit
# (PRAGMA integrity_check too). Not run by CI: see README.md here.
# Usage: bench/soak/soak.sh [BUILD_DIR=build] [MINUTES=30] [OUT_DIR=bench/soak/results]
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
minutes=${2:-30}
out=$(mkdir -p "${3:-$src/bench/soak/results}" && cd "${3:-$src/bench/soak/results}" && pwd)
threads=8
sample_s=10
source "$src/tests/smoke/fault_lib.sh"
command -v gnuplot >/dev/null || fail "gnuplot is needed for the plot (deploy/install-deps.sh installs gnuplot-nox)"

write_config "$work/config.json" "$work/audit.db"
start_service "$work/config.json"
commit=$(git -C "$src" rev-parse --short HEAD 2>/dev/null || echo unknown)

# Capacity: as fast as $threads keep-alive clients are answered, for 20 s.
run_load "$work/capacity.txt" capacity 20 --threads "$threads"
wait $!
capacity=$(awk '$2 == "200" {n++} END {printf "%.1f", n / 20}' "$work/capacity.txt")
rate=$(awk -v c="$capacity" 'BEGIN {printf "%.1f", c / 2}')
echo "soak: capacity ${capacity} calls/s with $threads clients; soaking at ${rate} calls/s for $minutes min (commit $commit)"

csv="$out/soak.csv"
echo "elapsed_s,calls,errors,calls_per_s,p99_ms,rss_kb,open_fds,connections_open,audit_rows" >"$csv"
: >"$work/soak.txt"
run_load "$work/soak.txt" soak "$((minutes * 60))" --threads "$threads" --rate "$rate"
load_pid=$!
start=$(date +%s)
seen=0
while kill -0 "$load_pid" 2>/dev/null; do
  sleep "$sample_s"
  kill -0 "$pid" 2>/dev/null || fail "the service died during the soak"
  kill -0 "$load_pid" 2>/dev/null || break  # the load ended within this sample: not a full one
  lines=$(wc -l <"$work/soak.txt")
  tail -n +"$((seen + 1))" "$work/soak.txt" | head -n "$((lines - seen))" >"$work/window.txt"
  seen=$lines
  stats=$(awk -v s="$sample_s" 'NF == 3 {n++; if ($2 != "200") e++} END {printf "%d,%d,%.1f", n, e + 0, n / s}' "$work/window.txt")
  p99=$(awk 'NF == 3 {print $3}' "$work/window.txt" | sort -n |
    awk '{a[NR] = $1} END {i = int(NR * 0.99); if (i < 1) i = 1; print (NR ? a[i] : 0)}')
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
  fds=$(ls "/proc/$pid/fd" | wc -l)
  conns=$(get_body /metrics | awk '$1 == "cds_connections_open" {print $2}')
  rows=$(sqlite3 "$work/audit.db" "SELECT count(*) FROM invocation" 2>/dev/null || echo "")
  echo "$(( $(date +%s) - start )),$stats,$p99,$rss,$fds,${conns:-},${rows:-}" >>"$csv"
done
wait "$load_pid" || true

gnuplot <<GP
set terminal pngcairo size 1200,900 noenhanced
set output "$out/soak.png"
set datafile separator ","
set multiplot layout 2,2 title "cds-service soak at $rate calls/s (half of $capacity), $minutes min, commit $commit"
set xlabel "elapsed s"
set title "calls and errors per sample ($sample_s s)"
plot "$csv" using 1:2 skip 1 with lines title "calls", "" using 1:3 skip 1 with lines title "errors"
set title "RSS (kB)"
plot "$csv" using 1:6 skip 1 with lines title "RSS"
set title "open files and connections"
plot "$csv" using 1:7 skip 1 with lines title "open fds", "" using 1:8 skip 1 with lines title "connections"
set title "audit rows and p99 latency (ms)"
set y2tics
plot "$csv" using 1:9 skip 1 with lines title "audit rows", "" using 1:5 skip 1 axes x1y2 with lines title "p99 ms"
unset multiplot
GP

calls=$(wc -l <"$work/soak.txt")
errors=$(awk '$2 != "200"' "$work/soak.txt" | wc -l)
checked=$(check_acknowledged "$work/soak.txt" "$work/audit.db")
drift=$(awk -F, 'NR == 2 {r0 = $6; f0 = $7} END {printf "RSS %s -> %s kB, open files %s -> %s, max p99 ", r0, $6, f0, $7}' "$csv")
p99max=$(awk -F, 'NR > 1 && $5 > m {m = $5} END {print m + 0}' "$csv")
summary="soak $(date -u +%Y-%m-%d) commit $commit: $minutes min at $rate calls/s (capacity $capacity): $calls calls, $errors errors, $checked acknowledged all recorded; $drift${p99max} ms"
echo "$summary" | tee "$out/summary.txt"
echo "CSV: $csv  plot: $out/soak.png"
kill "$pid"
wait "$pid" || fail "the service did not exit 0 on SIGTERM"
pid=""
