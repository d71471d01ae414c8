#!/usr/bin/env bash
# Fault: the audit's filesystem fills up under load, then space comes back. The audit lives on
# a small tmpfs of its own (root is needed to mount it, as in CI: without it the test fails, it
# does not skip). While the disk is full: order-sign answers 503, /readyz answers 503 every time
# it is asked, and the log names SQLite's error and errno without flooding. Once space is freed:
# calls are answered 200 again and /readyz is 200, with no restart; every call answered 200
# before, during and after has exactly one audit row.
# Usage: fault_disk_full.sh BUILD_DIR SOURCE_DIR
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
source "$src/tests/smoke/fault_lib.sh"

disk="$work/disk"
mkdir -p "$disk"
mount -t tmpfs -o size=16m tmpfs "$disk" 2>"$work/mount.err" ||
  fail "cannot mount a 16 MB tmpfs for the full-disk test (needs root, as in CI): $(cat "$work/mount.err")"
fault_cleanup_extra() { umount "$disk" 2>/dev/null || umount -l "$disk" 2>/dev/null || true; }

write_config "$work/config.json" "$disk/audit.db"
start_service "$work/config.json"
run_load "$work/answers.txt" before 2 --threads 2
wait $!
before=$(awk '$2 == "200"' "$work/answers.txt" | wc -l)
[ "$before" -ge 5 ] || fail "only $before calls answered before the disk filled"

# Fill the filesystem to the last block.
dd if=/dev/zero of="$disk/filler" bs=64k 2>/dev/null || true
log_lines_at_full=$(wc -l <"$work/service.log")
run_load "$work/answers.txt" full 30 --threads 4
load_pid=$!
# Nothing can know the disk is full before a commit is tried: from the first 503 on, /readyz
# must say 503 every time, while calls keep arriving.
for _ in $(seq 1 300); do
  grep -q "^full-[0-9-]* 503 " "$work/answers.txt" 2>/dev/null && break
  sleep 0.1
done
ready_during=""
for _ in 1 2 3 4 5 6 7 8; do
  ready_during="$ready_during $(get_status /readyz)"
  sleep 0.5
done
kill "$load_pid" 2>/dev/null || true
wait "$load_pid" 2>/dev/null || true
full_ok=$(awk '$1 ~ /^full-/ && $2 == "200"' "$work/answers.txt" | wc -l)
full_503=$(awk '$1 ~ /^full-/ && $2 == "503"' "$work/answers.txt" | wc -l)
full_other=$(awk '$1 ~ /^full-/ && $2 != "200" && $2 != "503"' "$work/answers.txt" | wc -l)
echo "disk full: $full_503 answered 503, $full_ok answered 200 (before the disk ran out), $full_other otherwise; /readyz:$ready_during"
[ "$full_503" -ge 3 ] || fail "the full disk did not show: only $full_503 calls answered 503"
[ "$full_other" = 0 ] || fail "$full_other calls during the full disk got neither 200 nor 503"
for s in $ready_during; do [ "$s" = 503 ] || fail "/readyz said $s while the disk was full:$ready_during"; done
grep -m1 "audit commit of [0-9]* records failed" "$work/service.log" || true
# SQLITE_FULL is SQLite's word for ENOSPC (its VFS keeps no errno for it); other I/O errors add the errno.
grep -q "audit commit of [0-9]* records failed: SQLite error 13 (database or disk is full)" "$work/service.log" ||
  fail "the log does not name SQLite's error for the failed commits"
during_lines=$(( $(wc -l <"$work/service.log") - log_lines_at_full ))
[ "$during_lines" -le 30 ] || fail "$during_lines log lines during the full disk: not rate-limited"

# Space back: the service heals without a restart.
rm -f "$disk/filler"
healed=""
for _ in $(seq 1 50); do
  answer=$("${client[@]}" call --port "$port" --ca "$work/certs/ca.crt" --fixture "$fixture" --hook-instance "heal-$RANDOM")
  if [ "${answer%% *}" = 200 ]; then healed=yes; break; fi
  sleep 0.2
done
[ -n "$healed" ] || fail "still no 200 10 s after space was freed"
ready_after=$(get_status /readyz)
[ "$ready_after" = 200 ] || fail "/readyz says $ready_after after recovery"
run_load "$work/answers.txt" after 2 --threads 2
wait $!
after_bad=$(awk '$1 ~ /^after-/ && $2 != "200"' "$work/answers.txt" | wc -l)
[ "$after_bad" = 0 ] || fail "$after_bad calls failed after recovery"
grep -q "audit commits again after" "$work/service.log" || fail "the log does not say the audit recovered"
kill "$pid"
wait "$pid" || fail "the service did not exit 0 on SIGTERM"
pid=""
checked=$(check_acknowledged "$work/answers.txt" "$disk/audit.db")
echo "disk full: 503 and not ready while full, healed without a restart; $checked acknowledged calls recorded once"
