#!/usr/bin/env bash
# The audit on PostgreSQL against SQLite, in one run: the same service binary (Release), the same
# load (wrk, order-sign with a fresh RS384 token per request, -t2 -c32, keep-alive, plain HTTP on
# loopback), first with the SQLite audit on disk, then on a throw-away local PostgreSQL 15
# cluster (tests/pg/pg_cluster.sh: fsync=on, synchronous_commit=on, its data on the same disk).
# Prints req/s, p50/p99 latency, records per commit, and the database's load per call
# (transactions, rows written and WAL bytes per acknowledged call).
#
#   bench/pg/pg_vs_sqlite.sh [-d SECONDS] [--skip-build]
# Needs wrk (installed if missing) and a Release build in build-bench/ (made unless --skip-build).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${BENCH_BUILD_DIR:-$root/build-bench}"
DURATION=15
SKIP_BUILD=0
while [ $# -gt 0 ]; do
  case "$1" in
    -d) DURATION=$2; shift ;;
    --skip-build) SKIP_BUILD=1 ;;
    *) echo "pg_vs_sqlite.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
log() { printf '[pg_vs_sqlite %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v wrk >/dev/null || { apt-get install -y -qq --no-install-recommends wrk >/dev/null || die "cannot install wrk"; }
if [ "$SKIP_BUILD" = 0 ]; then
  log "building Release into $build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCDS_BUILD_BENCH=ON -DCDS_BUILD_TESTS=OFF >/dev/null
  ninja -C "$build" cds-service cds-token mint_tokens >/dev/null
fi
SERVICE="$build/cds-service/cds-service" TOKEN="$build/cds-service/cds-token" MINT="$build/bench/mint_tokens"
for b in "$SERVICE" "$TOKEN" "$MINT"; do [ -x "$b" ] || die "missing $b"; done

work=$(mktemp -d /tmp/cds-pgbench.XXXXXX)
chmod 755 "$work"
svc=""
cleanup() {
  [ -n "$svc" ] && kill -TERM "$svc" 2>/dev/null && wait "$svc" 2>/dev/null
  bash "$root/tests/pg/pg_cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work" "$build/pg-bench-audit"
}
trap cleanup EXIT

BASE_URL="https://cds.bench.local" SERVICE_PATH="/cds-services/knee-oa-order-sign"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/ehr.key" 2>/dev/null
"$TOKEN" --key "$work/ehr.key" --kid bench-rs384 --alg RS384 --jwks >"$work/jwks.json"
head -c 32 /dev/urandom >"$work/pseudonym.key"
bash "$root/tests/pg/pg_cluster.sh" start "$work/pg" >/dev/null
uri=$(cat "$work/pg/uri")
psql_q() { psql -X -A -t -q "$uri" -c "$1"; }
# CPU ticks of the cluster's server processes (they run as the cluster's own user).
pg_ticks() {
  local user p t=0
  user=$(stat -c %U "$(cat "$work/pg/cluster")/data")
  for p in $(pgrep -u "$user" postgres); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}

run() {  # run NAME AUDIT_DB
  local name=$1 db=$2 port=""
  cat >"$work/config-$name.json" <<JSON
{ "tls": { "enabled": false }, "rules_dir": "$root/rules/data", "public_base_url": "$BASE_URL", "threads": 2,
  "audit": { "db": "$db", "pseudonym_key_file": "$work/pseudonym.key" },
  "auth": { "trusted_issuers": [ { "iss": "https://ehr.bench", "jwks_file": "$work/jwks.json" } ] } }
JSON
  "$MINT" --key "$work/ehr.key" --kid bench-rs384 --alg RS384 --iss https://ehr.bench --sub bench --aud "$BASE_URL$SERVICE_PATH" \
    --count $((DURATION * ${TOKENS_PER_SECOND:-3000})) --ttl 300 --out "$work/tokens-$name.txt"
  "$SERVICE" --config "$work/config-$name.json" --no-tls --listen 127.0.0.1:0 2>"$work/$name.log" &
  svc=$!
  for _ in $(seq 1 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/$name.log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || die "$name: service did not start: $(cat "$work/$name.log")"
  local before_pg
  before_pg=$(psql_q "select xact_commit || ' ' || tup_inserted from pg_stat_database where datname = current_database()")
  local wal0 cpu0
  wal0=$(psql_q "select pg_current_wal_lsn() - '0/0'::pg_lsn")
  cpu0=$(awk '{print $14 + $15}' "/proc/$svc/stat")
  local pg0
  pg0=$(pg_ticks)
  BENCH_BODY="$root/bench/data/order-sign-60.json" BENCH_TOKENS="$work/tokens-$name.txt" BENCH_THREADS=2 \
    BENCH_REPORT="$work/report-$name" timeout $((DURATION + 60)) wrk -t2 -c32 -d"${DURATION}s" --timeout 5s --latency \
    -s "$root/bench/wrk/order-sign.lua" "http://127.0.0.1:$port$SERVICE_PATH" >"$work/wrk-$name.txt" 2>&1 \
    || die "wrk failed: $(cat "$work/wrk-$name.txt")"
  local metrics cpu1
  cpu1=$(awk '{print $14 + $15}' "/proc/$svc/stat")
  local pg1
  pg1=$(pg_ticks)
  metrics=$(curl -sS "http://127.0.0.1:$port/metrics")
  kill -TERM "$svc"; wait "$svc" 2>/dev/null || true; svc=""
  local records commits
  records=$(echo "$metrics" | awk '$1 == "cds_audit_records_total" {print $2}')
  commits=$(echo "$metrics" | awk '$1 == "cds_audit_commits_total" {print $2}')
  local g
  g() { sed -n "s/^$1=//p" "$work/report-$name"; }
  local per_call="-"
  if [ "$name" = postgresql ]; then
    read -r x1 t1 < <(psql_q "select xact_commit || ' ' || tup_inserted from pg_stat_database where datname = current_database()")
    read -r x0 t0 <<<"$before_pg"
    local wal1
    wal1=$(psql_q "select pg_current_wal_lsn() - '0/0'::pg_lsn")
    per_call=$(awk -v x=$((x1 - x0)) -v t=$((t1 - t0)) -v w="$((wal1 - wal0))" -v n="$records" \
      -v c=$((pg1 - pg0)) -v hz="$(getconf CLK_TCK)" \
      'BEGIN {printf "%.3f xact, %.1f rows, %.1f KB WAL, %.2f ms server CPU", x/n, t/n, w/n/1024, c*1000/hz/n}')
  fi
  # The service's own CPU per call (user + system): calls per second one core sustains.
  local cpu_ms
  cpu_ms=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v n="$records" 'BEGIN {printf "%.2f", t * 1000 / hz / n}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$(g rps)" "$(g p50_ms)" "$(g p99_ms)" "$(g non2xx)" \
    "$(awk -v r="$records" -v c="$commits" 'BEGIN {printf "%.1f", (c > 0 ? r / c : 0)}')" "$cpu_ms" \
    "$(awk -v m="$cpu_ms" 'BEGIN {printf "%.0f", 1000 / m}')" "$per_call"
}

mkdir -p "$build/pg-bench-audit" && rm -f "$build/pg-bench-audit/"*
{
  printf 'audit\treq/s\tp50_ms\tp99_ms\tnon2xx\trec/commit\tsvc_cpu_ms/call\tcalls/s/core\tdatabase load per call\n'
  run sqlite "$build/pg-bench-audit/audit.db"
  run postgresql "$uri"
} | tee "$work/results.tsv"
log "commit $(git -C "$root" rev-parse --short HEAD), $(date -u +%F), $(nproc) cores (load average $(cut -d' ' -f1 /proc/loadavg) at the end), wrk -t2 -c32 -d${DURATION}s, service threads 2"
