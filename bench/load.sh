#!/usr/bin/env bash
# Load test of the real cds-service binary on loopback, against an nginx static-file baseline.
#
#   bench/load.sh [-d SECONDS] [-r REPEAT] [--variants "..."] [--skip-build] [--keep]
#   -d  seconds per wrk run (default 15)   -r  repeat every variant this many rounds (variance)
#   --keep  keep the temp dir (certs, tokens, logs, wrk output) for inspection
#
# What it does (everything on 127.0.0.1, every wait bounded, everything it starts is stopped on
# exit):
#   1. installs what is missing (wrk, nginx-light, libbenchmark-dev; the build deps through
#      deploy/install-deps.sh), with sudo when not root;
#   2. builds Release into build-bench/ (-DCDS_BUILD_BENCH=ON);
#   3. makes development certificates and an RSA key in a temp dir, and their JWKS (cds-token);
#   4. pre-mints single-use JWTs (bench/tools/mint_tokens), more than the run can send;
#   5. per variant: starts cds-service (auth on, port 0, read from its log), measures start-up
#      to ready (exec -> first 200 from /readyz), drives it with wrk -t2 -c32 (keep-alive) and
#      bench/wrk/order-sign.lua (a fresh token per request), reads the peak RSS (VmHWM), stops it;
#   6. nginx serving a static file of the same size as our response, same wrk settings;
#   7. prints a table (and writes it to build-bench/bench-results/) with our req/s as % of nginx,
#      then each target of bench/README.md with the figure from this run that it is judged by.
#
# Variants:
#   nginx-post   baseline: nginx answering the service's exact request (POST, 43 KB body, token;
#                body read and dropped) with a static file of our response's size; the percentages
#                are taken against it when it runs (it runs first in the default list)
#   nginx        nginx serving that file to plain GETs: the bare physical limit, for reference
#   nginx-post@RATE  nginx-post offered a constant RATE req/s: the test bed's own latency floor
#                at the rate a paced service variant was offered (its p99 is the client's,
#                the loopback's and the machine's, nginx needing 0.02 ms per answer)
#   plain        cds-service --no-tls, ES384 tokens, audit DB on disk (build-bench/bench-audit/,
#                synchronous=FULL; the script prints that filesystem's type)
#   plain-shm    same, audit DB on /dev/shm (tmpfs: fsync costs nothing) ~ "audit off"
#   tls          cds-service with TLS (dev certificate), ES384 tokens, audit DB on disk
#   plain-rs384  like plain but RS384 tokens: the other default algorithm, far cheaper to verify
#   plain-noauth like plain with auth off (development mode: auth.enabled=false): the service's own
#                path without crypto, which nginx does not do either (the token is sent, not read)
#   ceiling      the two-core ES384 verification ceiling: cds_micro_bench's BM_JoseVerifyShared
#                on 2 threads, Nettle (the service's) and OpenSSL, verifications/s; ES384 variants
#                report their req/s as a percentage of it (%ceiling)
#   VARIANT-paced  (e.g. plain-paced, tls-paced, plain-noauth-paced, plain-rs384-paced) latency at
#                a stated load: VARIANT offered at a constant rate of half the req/s VARIANT
#                reached earlier in the same run (wrk, bench/wrk/order-sign.lua's BENCH_RATE pacing)
#   base-VARIANT (e.g. base-plain, base-tls) VARIANT with the binaries of BASE_BUILD_DIR, a Release
#                build of another commit (A/B in one run: the ES384 gain of Nettle was measured so)
#   plain-pg, plain-rs384-pg  plain / plain-rs384 with the audit on PostgreSQL (--audit-db
#                "$PG_AUDIT_URI"; unset, a throw-away local cluster is started with
#                tests/pg/pg_cluster.sh: fsync=on, its data on the same disk): throughput and p99
#                against the SQLite variants of the same run; the cluster's CPU is reported too
#   plain-shm-rs384  (not in the default list) plain-rs384 with the audit on tmpfs: the audit's
#                durability cost where verification does not hide it
#   plain-c1, plain-shm-c1, plain-rs384-c1, tls-c1, tls-shm-c1 (not in the default list)
#                the same with wrk -t1 -c1: one request at a time, the latency without queueing
#   callgrind    (not in the default list) the whole service under valgrind --tool=callgrind,
#                CALLGRIND_REQUESTS (200) order-signs one at a time on one connection, once per
#                variant in CALLGRIND_VARIANTS ("plain-noauth plain-rs384 plain tls", plus
#                base-plain with BASE_BUILD_DIR): instructions per answer by stage, all threads,
#                load-independent (bench/tools/callgrind_stages.py); needs valgrind
#   syscalls     (not in the default list) system calls per request, by name: SYSCALL_REQUESTS (300)
#                sequential order-signs (SYSCALL_ALG, RS384) on one connection traced by strace -c -f
#   startup      start-up to ready (bench/startup_probe.py), STARTUP_RUNS (7) times, TLS + auth,
#                audit on disk: the first start creates the audit DB, the others reopen it
# The service always audits; "audit off" is approximated by the tmpfs audit file.
#
# Environment: DURATION (default 15, seconds per wrk run), THREADS (2), CONNECTIONS (32),
# PIN (SERVER_CPUS/CLIENT_CPUS: the service and nginx pinned apart from wrk, e.g. 1/0),
# PACE_FRACTION (0.5: the -paced variants' rate as a fraction of the closed-loop maximum),
# SERVICE_THREADS (2), ES384_RPS / RS384_RPS (token pool sizing guesses; a run that runs out of
# tokens is repeated once with a pool sized from what it measured), PERF=1 (perf record the
# service during each run into build-bench/bench-results/perf-VARIANT.data; needs linux-perf),
# BENCH_BUILD_DIR (default build-bench: the build whose binaries run; with --skip-build, a build
# of another commit for an A/B comparison), BASE_BUILD_DIR (the build the base-* variants run),
# PG_AUDIT_URI (the *-pg variants' audit database; default: a throw-away local cluster).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="${BENCH_BUILD_DIR:-$root/build-bench}"  # another build dir (e.g. of an older commit) for A/B runs

DURATION=${DURATION:-15}
REPEAT=1
VARIANTS="startup nginx-post ceiling plain-noauth plain plain-rs384 tls plain-noauth-paced plain-paced plain-rs384-paced tls-paced tls-c1"
SKIP_BUILD=0
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    -d) DURATION=$2; shift ;;
    -r) REPEAT=$2; shift ;;
    --variants) VARIANTS=$2; shift ;;
    --skip-build) SKIP_BUILD=1 ;;
    --keep) KEEP=1 ;;
    -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "load.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
SERVICE_THREADS=${SERVICE_THREADS:-2}
ES384_RPS=${ES384_RPS:-2000}
RS384_RPS=${RS384_RPS:-4000}
BASE_URL="https://cds.bench.local"  # public_base_url: token audiences do not depend on the port
SERVICE_PATH="/cds-services/knee-oa-order-sign"
BODY="$here/data/order-sign-60.json"

log() { printf '[load.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- 1. dependencies
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v curl >/dev/null || need+=(curl)
dpkg-query -W -f='${Status}' libbenchmark-dev 2>/dev/null | grep -q "install ok installed" || need+=(libbenchmark-dev)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO timeout 600 apt-get update -qq || true
  # policy-rc.d (if any) keeps the packaged nginx service from starting; we run our own.
  $SUDO timeout 600 apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
if ! command -v cmake >/dev/null || ! command -v ninja >/dev/null; then
  $SUDO bash "$root/deploy/install-deps.sh"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# ---------------------------------------------------------------- 2. build
if [ "$SKIP_BUILD" = 0 ]; then
  log "building Release into $build"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCDS_BUILD_BENCH=ON -DCDS_BUILD_TESTS=OFF >/dev/null
  ninja -C "$build" cds-service cds-token mint_tokens cds_micro_bench cds_p384_bench >/dev/null
fi
SERVICE="$build/cds-service/cds-service"
TOKEN="$build/cds-service/cds-token"
MINT="$build/bench/mint_tokens"
for b in "$SERVICE" "$TOKEN" "$MINT"; do [ -x "$b" ] || die "missing $b (run without --skip-build)"; done
BASE_SERVICE=""
if [ -n "${BASE_BUILD_DIR:-}" ]; then
  BASE_SERVICE="$BASE_BUILD_DIR/cds-service/cds-service"
  [ -x "$BASE_SERVICE" ] || die "missing $BASE_SERVICE (BASE_BUILD_DIR must hold a Release build)"
fi

# ---------------------------------------------------------------- 3. keys, certificates, JWKS
work=$(mktemp -d /tmp/cds-load.XXXXXX)
chmod 711 "$work"  # nginx workers (nobody) must traverse to www/
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf /dev/shm/cds-load-"$(basename "$work")" "$build/bench-audit"
  [ -d "$work/pg" ] && bash "$root/tests/pg/pg_cluster.sh" stop "$work/pg" >/dev/null 2>&1
  if [ "$KEEP" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash "$root/certs/make-dev-certs.sh" "$work/certs" >/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/certs/ehr-rs384.key" 2>/dev/null
"$TOKEN" --key "$work/certs/ehr-es384.key" --kid bench-es384 --alg ES384 --jwks >"$work/jwks-es384.json"
"$TOKEN" --key "$work/certs/ehr-rs384.key" --kid bench-rs384 --alg RS384 --jwks >"$work/jwks-rs384.json"

cat >"$work/config.json" <<JSON
{
  "public_base_url": "$BASE_URL",
  "threads": $SERVICE_THREADS,
  "tls": { "cert": "certs/server.crt", "key": "certs/server.key" },
  "rules_dir": "$root/rules/data",
  "audit": { "db": "audit/audit.db" },
  "auth": {
    "replay_cache_entries": 1000000,
    "trusted_issuers": [
      { "iss": "https://ehr-es384.bench", "jwks_file": "jwks-es384.json", "clients": ["bench-ehr"] },
      { "iss": "https://ehr-rs384.bench", "jwks_file": "jwks-rs384.json", "clients": ["bench-ehr"] }
    ]
  }
}
JSON
# Development mode: auth off (the service warns); everything else as above.
cat >"$work/config-noauth.json" <<JSON
{
  "public_base_url": "$BASE_URL",
  "threads": $SERVICE_THREADS,
  "tls": { "cert": "certs/server.crt", "key": "certs/server.key" },
  "rules_dir": "$root/rules/data",
  "audit": { "db": "audit/audit.db" },
  "auth": { "enabled": false }
}
JSON

# The *-pg variants' database: the one given, else a throw-away local cluster for this run.
pg_user=""
if [[ " $VARIANTS ${CALLGRIND_VARIANTS:-} " == *-pg[\ -]* ]]; then
  if [ -z "${PG_AUDIT_URI:-}" ]; then
    command -v psql >/dev/null || die "the -pg variants need PostgreSQL (deploy/install-deps.sh installs it)"
    bash "$root/tests/pg/pg_cluster.sh" start "$work/pg" >/dev/null
    PG_AUDIT_URI=$(cat "$work/pg/uri")
    pg_user=$(stat -c %U "$(cat "$work/pg/cluster")/data")
  fi
  # PostgreSQL keeps no key: the pseudonym key every replica shares comes from a file.
  head -c 32 /dev/urandom >"$work/pseudonym.key"
  sed 's|"audit": { "db": "audit/audit.db" }|"audit": { "db": "audit/audit.db", "pseudonym_key_file": "pseudonym.key" }|' \
    "$work/config.json" >"$work/config-pg.json"
  grep -q pseudonym_key_file "$work/config-pg.json" || die "config-pg.json: no pseudonym key"
  log "PostgreSQL audit: ${pg_user:+a throw-away cluster, }$PG_AUDIT_URI"
fi
pg_count() { psql -X -A -t -q "$PG_AUDIT_URI" -c "select count(*) from invocation where http_status = 200" 2>/dev/null || echo 0; }
# CPU ticks of the local cluster's server processes (0 when the database is elsewhere).
pg_ticks() {
  local p t=0
  [ -n "$pg_user" ] || { echo 0; return; }
  for p in $(pgrep -u "$pg_user" postgres); do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo "$t"
}

# ---------------------------------------------------------------- 4. tokens
declare -A pool_minted pool_size
alg_of() { case "$1" in *rs384*) echo RS384 ;; *) echo ES384 ;; esac; }
# mint ALG COUNT: a pool of COUNT tokens in $work/tokens-ALG.txt
mint() {
  local alg=$1 count=$2 lower t0
  lower=$(echo "$alg" | tr 'A-Z' 'a-z')
  log "minting $count $alg tokens"
  t0=$(date +%s%N)
  timeout 900 "$MINT" --key "$work/certs/ehr-$lower.key" --kid "bench-$lower" --alg "$alg" \
    --iss "https://ehr-$lower.bench" --sub bench-ehr --aud "$BASE_URL$SERVICE_PATH" \
    --count "$count" --ttl 300 --out "$work/tokens-$alg.txt"
  log "minted in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  pool_minted[$alg]=$(date +%s)
  pool_size[$alg]=$count
}
# A pool serves every variant of its algorithm: each variant starts a fresh service (fresh replay
# cache) and the audience does not depend on port or scheme. Tokens live 300 s (+60 s skew),
# so a pool older than 200 s is re-minted before a run of DURATION seconds.
ensure_pool() {
  local alg=$1 want=$2
  if [ -z "${pool_minted[$alg]:-}" ] || [ $(( $(date +%s) - pool_minted[$alg] + DURATION )) -gt 240 ] ||
     [ "${pool_size[$alg]}" -lt "$want" ]; then
    mint "$alg" "$want"
  fi
}

# ---------------------------------------------------------------- helpers
free_port() {  # a port the kernel picks (for nginx, which cannot listen on port 0 and report it)
  perl -MIO::Socket::INET -e 'my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => "127.0.0.1", LocalPort => 0) or die; print $s->sockport'
}
now_ns() { date +%s%N; }
curl_b=(curl -s --max-time 2 --cacert "$work/certs/ca.crt")

svc_pid="" svc_port="" svc_scheme="" startup_ms=""
# PIN=SERVER_CPUS/CLIENT_CPUS (e.g. 1/0): the service and nginx on the first CPU list, wrk on
# the second (taskset), so that the client never takes the server's CPU (nor waits for it).
pin_server=() pin_client=()
if [ -n "${PIN:-}" ]; then
  [[ "$PIN" == */* ]] || die "PIN is SERVER_CPUS/CLIENT_CPUS, e.g. 1/0"
  pin_server=(taskset -c "${PIN%/*}") pin_client=(taskset -c "${PIN#*/}")
fi
svc_wrap=("${pin_server[@]}")  # the command the service runs under (also valgrind for callgrind)
# start_service VARIANT AUDIT_DIR: starts cds-service, sets svc_pid, svc_port, startup_ms
start_service() {
  local variant=$1 audit_dir=$2 flags=() t0 t1 code kind=${1#base-} service=$SERVICE config=$work/config.json
  local audit_db="$audit_dir/audit.db"
  mkdir -p "$audit_dir"
  rm -f "$audit_dir"/audit.db*
  svc_scheme=https
  case "$kind" in plain*) flags+=(--no-tls); svc_scheme=http ;; esac
  case "$kind" in *noauth*) config=$work/config-noauth.json ;; esac
  case "$kind" in *-pg*) audit_db=$PG_AUDIT_URI config=$work/config-pg.json ;; esac
  case "$variant" in base-*) service=${BASE_SERVICE:?"base-* variants need BASE_BUILD_DIR"} ;; esac
  : >"$work/service-$variant.log"
  t0=$(now_ns)
  "${svc_wrap[@]}" "$service" --config "$config" --listen 127.0.0.1:0 --audit-db "$audit_db" "${flags[@]}" \
    2>>"$work/service-$variant.log" &
  svc_pid=$!
  pids+=("$svc_pid")
  svc_port=""
  for _ in $(seq 1 2000); do  # <= ~10 s
    svc_port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/service-$variant.log")
    [ -n "$svc_port" ] && break
    kill -0 "$svc_pid" 2>/dev/null || { cat "$work/service-$variant.log" >&2; die "service exited at start"; }
    sleep 0.005
  done
  [ -n "$svc_port" ] || die "service did not report its port"
  for _ in $(seq 1 2000); do
    code=$("${curl_b[@]}" -o /dev/null -w '%{http_code}' "$svc_scheme://127.0.0.1:$svc_port/readyz" || true)
    [ "$code" = 200 ] && break
    sleep 0.002
  done
  t1=$(now_ns)
  [ "$code" = 200 ] || die "service not ready (readyz $code)"
  startup_ms=$(( (t1 - t0) / 1000000 ))
}
# Stops a process we started and forgets its pid (so cleanup never signals a reused pid).
stop_pid() {
  local p=$1 keep=() q
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$p" 2>/dev/null || true
  wait "$p" 2>/dev/null || true
  for q in "${pids[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  pids=("${keep[@]}")
}
stop_service() { stop_pid "$svc_pid"; }
peak_rss_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
# CPU time (user + system) a process has used, in clock ticks (the comm field has no spaces here).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Bytes the process sent to storage (the audit's WAL and database; 0 on tmpfs).
written_bytes() { awk '/^write_bytes:/ {print $2}' "/proc/$1/io"; }
TICKS=$(getconf CLK_TCK)

# run_wrk NAME URL [lua env...]: one wrk run; its key=value summary goes to $work/report-NAME
run_wrk() {
  local name=$1 url=$2; shift 2
  local t=${WRK_T:-$THREADS} c=${WRK_C:-$CONNECTIONS}
  env "$@" BENCH_THREADS="$t" BENCH_RATE="${WRK_RATE:-}" BENCH_REPORT="$work/report-$name" \
    timeout $((DURATION + 60)) "${pin_client[@]}" wrk -t"$t" -c"$c" -d"${DURATION}s" --timeout 5s --latency \
    -s "$here/wrk/order-sign.lua" "$url" >"$work/wrk-$name.txt" 2>&1 || { cat "$work/wrk-$name.txt" >&2; die "wrk failed"; }
}
get() { sed -n "s/^$2=//p" "$work/report-$1"; }

results="$work/results.tsv"
printf 'variant\treq/s\tp50_ms\tp90_ms\tp99_ms\tp99.9_ms\tnon2xx\tsocket_err\tpeak_rss_MB\tstartup_ms\taudited\trec/commit\tKB_written/req\tsvc_cores\tsvc_cpu_ms/req\t%%nginx\t%%ceiling\n' >"$results"
nginx_rps=""
ceiling_summary=""
ceiling_nettle="" ceiling_openssl=""
declare -A max_rps  # req/s each closed-loop variant reached in this run (the paced variants' base)
startup_summary=""
callgrind_summary=""
syscalls_summary=""

# ---------------------------------------------------------------- the probe: our response body
# One call with its own token, to check the answer and size the nginx file like it.
probe_response() {
  start_service plain-probe "$work/audit-probe"
  local token
  token=$("$TOKEN" --key "$work/certs/ehr-es384.key" --kid bench-es384 --iss https://ehr-es384.bench --sub bench-ehr \
    --aud "$BASE_URL$SERVICE_PATH")
  mkdir -p "$work/www"
  code=$(curl -s --max-time 10 -o "$work/www/order-sign.json" -w '%{http_code}' -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $token" --data-binary @"$BODY" "http://127.0.0.1:$svc_port$SERVICE_PATH")
  stop_service
  [ "$code" = 200 ] || { cat "$work/www/order-sign.json" >&2; die "probe answered $code"; }
  grep -q '"indicator":"critical"' "$work/www/order-sign.json" || die "probe: no critical card"
  chmod -R a+rX "$work/www"
  log "response body: $(stat -c %s "$work/www/order-sign.json") bytes (nginx serves a file of this size)"
}

# ---------------------------------------------------------------- variants
run_startup() {
  # In-process polling (bench/startup_probe.py): a curl per poll would add its own start-up.
  startup_summary=$(python3 "$here/startup_probe.py" --runs "${STARTUP_RUNS:-7}" --cacert "$work/certs/ca.crt" \
    --audit-dir "$build/bench-audit/startup" -- "$SERVICE" --config "$work/config.json") || die "start-up probe failed"
  startup_summary="$startup_summary (TLS, auth, audit on disk)"
  log "$startup_summary"
}

# run_nginx get|post. get: wrk GETs the static file (the bare physical limit). post: wrk sends
# exactly what it sends the service (POST, the 43 KB body, a bearer token) and nginx reads the
# body, discards it and answers with the same static file: same request and response bytes, so
# the like-for-like baseline the percentages are taken against when it ran.
run_nginx() {  # run_nginx get|post [RATE]: RATE paces wrk at a constant RATE requests/s
  local mode=$1 rate=${2:-} port name=nginx
  [ "$mode" = post ] && name=nginx-post
  [ -n "$rate" ] && name="$name@$rate"
  port=$(free_port)
  mkdir -p "$work/nginx/logs"
  cat >"$work/nginx/nginx.conf" <<CONF
worker_processes $SERVICE_THREADS;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nodelay on;
  keepalive_requests 100000000;   # like cds-service: no request cap per keep-alive connection
  keepalive_timeout 60s;
  default_type application/json;
  server {
    listen 127.0.0.1:$port;
    root $work/www;
    location / { }
    # A POST to a static file is a 405 in nginx; map it to the file (the body is read and dropped).
    location = $SERVICE_PATH {
      client_max_body_size 1m;
      client_body_buffer_size 64k;
      alias $work/www/order-sign.json;
      error_page 405 =200 /order-sign.json;
    }
  }
}
CONF
  timeout 10 "$NGINX" -t -p "$work/nginx" -c "$work/nginx/nginx.conf" >/dev/null 2>&1 || die "nginx config test failed"
  "${pin_server[@]}" "$NGINX" -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
  local npid=$!
  pids+=("$npid")
  for _ in $(seq 1 500); do
    [ "$(curl -s --max-time 1 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/order-sign.json" || true)" = 200 ] && break
    sleep 0.01
  done
  local procs rss cpu0 cpu1 cpu
  procs="$npid $(pgrep -P "$npid" | tr '\n' ' ')"  # master and workers
  cpu0=$(for p in $procs; do cpu_ticks "$p"; done | awk '{s += $1} END {print s}')
  if [ "$mode" = post ]; then
    ensure_pool ES384 1000  # nginx ignores the token; the pool is reused so the bytes match
    log "nginx baseline (POST, same request as the service): wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s${rate:+, paced at $rate req/s}"
    WRK_RATE=$rate run_wrk "$name" "http://127.0.0.1:$port$SERVICE_PATH" BENCH_BODY="$BODY" BENCH_TOKENS="$work/tokens-ES384.txt" \
      BENCH_PATH="$SERVICE_PATH" BENCH_REUSE_TOKENS=1
  else
    log "nginx baseline (GET): wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on http://127.0.0.1:$port/order-sign.json"
    run_wrk "$name" "http://127.0.0.1:$port/order-sign.json" BENCH_BODY= BENCH_PATH=/order-sign.json
  fi
  cpu1=$(for p in $procs; do cpu_ticks "$p"; done | awk '{s += $1} END {print s}')
  rss=$(for p in $procs; do peak_rss_kb "$p"; done | awk '{s += $1} END {print s}')
  stop_pid "$npid"
  local rps pct="100%"
  rps=$(get "$name" rps)
  if [ -n "$rate" ]; then
    pct=-
    log "$name: offered $rate req/s, answered $rps req/s, p99 $(get "$name" p99_ms) ms, late sends $(get "$name" late_sends)"
  elif [ "$mode" = post ] || [ -z "$nginx_rps" ]; then
    nginx_rps=$rps nginx_ref=$name
  else
    pct=$(awk -v a="$rps" -v b="$nginx_rps" 'BEGIN {printf "%.1f%%", 100 * a / b}')
  fi
  cpu=$(awk -v t="$((cpu1 - cpu0))" -v hz="$TICKS" -v d="$(get "$name" duration_s)" -v n="$(get "$name" requests)" \
    'BEGIN {printf "%.2f\t%.3f", t / hz / d, (n > 0 ? 1000 * t / hz / n : 0)}')
  printf '%s (static %s B)\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\t-\t-\t%s\t%s\t-\n' "$name" "$(stat -c %s "$work/www/order-sign.json")" \
    "$rps" "$(get "$name" p50_ms)" "$(get "$name" p90_ms)" "$(get "$name" p99_ms)" "$(get "$name" p999_ms)" \
    "$(get "$name" non2xx)" "$(get "$name" socket_errors)" "$(awk -v k="$rss" 'BEGIN {printf "%.1f", k/1024}')" "$cpu" "$pct" >>"$results"
}

# The whole service under callgrind: zeroed once ready, so the profile holds exactly the
# requests sent; instructions do not depend on the machine's load, unlike every timing here.
# One profile per variant in CALLGRIND_VARIANTS (plain*, tls*, *-noauth, *-rs384, base-*).
run_callgrind() {
  local n=${CALLGRIND_REQUESTS:-200} v alg profile p tls_args summary
  local variants=${CALLGRIND_VARIANTS:-"plain-noauth plain-rs384 plain tls${BASE_SERVICE:+ base-plain}"}
  command -v valgrind >/dev/null || die "the callgrind variant needs valgrind (apt-get install valgrind)"
  mkdir -p "$build/bench-results"
  for v in $variants; do
    alg=$(alg_of "$v")
    profile="$work/callgrind-$v.out"
    ensure_pool "$alg" "$n"
    svc_wrap=("${pin_server[@]}" valgrind --tool=callgrind "--callgrind-out-file=$profile")
    start_service "$v" "$work/audit-callgrind-$v"
    svc_wrap=("${pin_server[@]}")
    log "callgrind $v: ready in ${startup_ms} ms under valgrind; $n sequential order-signs"
    tls_args=()
    [ "$svc_scheme" = https ] && tls_args=(--cacert "$work/certs/ca.crt")
    timeout 120 callgrind_control --zero "$svc_pid" >/dev/null || die "callgrind_control --zero failed"
    timeout 1200 python3 "$here/tools/post_sequential.py" --port "$svc_port" --path "$SERVICE_PATH" --body "$BODY" \
      --tokens "$work/tokens-$alg.txt" --count "$n" "${tls_args[@]}" || die "callgrind $v: a request failed"
    timeout 120 callgrind_control --dump "$svc_pid" >/dev/null || die "callgrind_control --dump failed"
    stop_service
    for p in "$profile".*; do [ -f "$p" ] && grep -q '^totals:' "$p" && profile=$p; done
    cp "$profile" "$build/bench-results/callgrind-service-$v.out"
    summary=$(python3 "$here/tools/callgrind_stages.py" "$profile" "$n") || die "callgrind: no profile"
    case "$v" in *noauth*) alg="auth off" ;; esac
    callgrind_summary+="callgrind $v ($alg, $svc_scheme, audit on disk): $summary"$'\n'
    log "callgrind $v: $(head -n1 <<<"$summary")"
  done
}

# The two-core ES384 verification ceiling, in the same run as the service variants it bounds:
# jose::verify_with on 2 threads sharing one key (cds_micro_bench), Nettle and OpenSSL.
run_ceiling() {
  local micro="$build/bench/cds_micro_bench" json="$work/ceiling.json"
  [ -x "$micro" ] || die "missing $micro (run without --skip-build)"
  log "ceiling: ES384 verifications/s on 2 threads (Nettle, OpenSSL)"
  timeout 600 "$micro" --benchmark_filter='^BM_JoseVerifyShared/ES384(_OpenSSL)?/real_time/threads:2$' \
    --benchmark_min_time="${CEILING_SECONDS:-3}" --benchmark_format=json >"$json" 2>/dev/null || die "ceiling: micro-benchmark failed"
  read -r ceiling_nettle ceiling_openssl < <(python3 -c '
import json, sys
rates = {b["name"].split("/")[1]: b["verifications/s"] for b in json.load(open(sys.argv[1]))["benchmarks"]}
print(round(rates["ES384"]), round(rates["ES384_OpenSSL"]))' "$json") || die "ceiling: no figures"
  ceiling_summary="ES384 verification ceiling, 2 threads: Nettle $ceiling_nettle/s, OpenSSL $ceiling_openssl/s ($(
    awk -v a="$ceiling_nettle" -v b="$ceiling_openssl" 'BEGIN {printf "%.2f", a / b}')x)"
  log "$ceiling_summary"
}

# Syscalls per request: the running service traced by strace -c -f while SYSCALL_REQUESTS (300)
# order-signs go one at a time on one keep-alive connection (after 20 untraced warm-up calls).
# Counts, unlike timings, do not depend on the machine's load.
run_syscalls() {
  local alg=${SYSCALL_ALG:-RS384} n=${SYSCALL_REQUESTS:-300} warm=20 trace="$work/strace.txt" spid
  command -v strace >/dev/null || die "the syscalls variant needs strace (apt-get install strace)"
  ensure_pool "$alg" "$((n + warm))"
  start_service plain-syscalls "$build/bench-audit/syscalls"
  head -n "$warm" "$work/tokens-$alg.txt" >"$work/tokens-warm.txt"
  tail -n +"$((warm + 1))" "$work/tokens-$alg.txt" >"$work/tokens-traced.txt"
  timeout 300 python3 "$here/tools/post_sequential.py" --port "$svc_port" --path "$SERVICE_PATH" --body "$BODY" \
    --tokens "$work/tokens-warm.txt" --count "$warm" || die "syscalls: a warm-up request failed"
  timeout 600 strace -f -c -o "$trace" -p "$svc_pid" 2>/dev/null &
  spid=$!
  sleep 1  # strace attaches to every thread
  local faults0 faults1  # minor page faults of the whole process (/proc/PID/stat field 10)
  faults0=$(awk '{print $10}' "/proc/$svc_pid/stat")
  timeout 600 python3 "$here/tools/post_sequential.py" --port "$svc_port" --path "$SERVICE_PATH" --body "$BODY" \
    --tokens "$work/tokens-traced.txt" --count "$n" || die "syscalls: a request failed"
  faults1=$(awk '{print $10}' "/proc/$svc_pid/stat")
  kill -INT "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  stop_service
  syscalls_summary="syscalls per order-sign ($alg, plain HTTP, audit on disk, one connection, $n requests): $(
    awk -v n="$n" 'NR > 2 && $1 !~ /^-/ && NF >= 5 {name = $NF; calls = $4; if (name == "total") total = calls; else if (calls / n >= 0.1) s = s sprintf("%s %.1f, ", name, calls / n)}
                   END {printf "%.1f in all: %s", total / n, substr(s, 1, length(s) - 2)}' "$trace")"
  syscalls_summary+="; minor page faults per request: $(awk -v a="$faults0" -v b="$faults1" -v n="$n" 'BEGIN {printf "%.1f", (b - a) / n}')"
  log "$syscalls_summary"
}

run_service_variant() {
  local variant=$1 name=$2 alg audit_dir guess want attempt rps used per_commit=- rate="" reuse=""
  alg=$(alg_of "$variant")
  case "$variant" in *noauth*) reuse=1 ;; esac  # auth off: the token is sent but never read
  case "$variant" in
    *-paced)  # half of what the same variant reached closed-loop earlier in this run
      [ -n "${max_rps[${variant%-paced}]:-}" ] || die "$variant needs ${variant%-paced} earlier in the variant list"
      rate=$(awk -v r="${max_rps[${variant%-paced}]}" -v f="${PACE_FRACTION:-0.5}" 'BEGIN {printf "%d", r * f}') ;;
  esac
  case "$variant" in
    *shm*) audit_dir="/dev/shm/cds-load-$(basename "$work")/$name" ;;
    *) audit_dir="$build/bench-audit/${name//#/-}" ;;
  esac
  guess=$([ "$alg" = RS384 ] && echo "$RS384_RPS" || echo "$ES384_RPS")
  WRK_T=$THREADS WRK_C=$CONNECTIONS
  case "$variant" in *-c1) WRK_T=1 WRK_C=1 ;; esac  # one connection: latency without queueing
  [ -n "$rate" ] && guess=$rate
  want=$(( guess * DURATION * 13 / 10 + 1000 ))
  [ -n "$reuse" ] && want=1000
  for attempt in 1 2; do
    ensure_pool "$alg" "$want"
    start_service "${variant%-paced}" "$audit_dir"
    log "$name: ready in ${startup_ms} ms on $svc_scheme://127.0.0.1:$svc_port; wrk -t$WRK_T -c$WRK_C -d${DURATION}s${rate:+, paced at $rate req/s}"
    local cpu0 cpu1 rss_kb
    cpu0=$(cpu_ticks "$svc_pid")
    local pg_audited0="" pg_cpu0=0 pg_cpu1=0
    case "$variant" in *-pg*) pg_audited0=$(pg_count); pg_cpu0=$(pg_ticks) ;; esac
    local written0 written1
    written0=$(written_bytes "$svc_pid")
    local perf_pid=""
    if [ "${PERF:-0}" = 1 ]; then  # sample the service's CPU during the run (software clock: works in VMs)
      mkdir -p "$build/bench-results"
      timeout $((DURATION + 30)) perf record -q -e cpu-clock -F 499 -g -p "$svc_pid" \
        -o "$build/bench-results/perf-${name//#/-}.data" -- sleep "$((DURATION - 1))" >/dev/null 2>&1 &
      perf_pid=$!
      pids+=("$perf_pid")
    fi
    WRK_RATE=$rate run_wrk "$name" "$svc_scheme://127.0.0.1:$svc_port$SERVICE_PATH" BENCH_BODY="$BODY" \
      BENCH_TOKENS="$work/tokens-$alg.txt" BENCH_PATH="$SERVICE_PATH" BENCH_REUSE_TOKENS="$reuse"
    cpu1=$(cpu_ticks "$svc_pid")
    pg_cpu1=$(pg_ticks)
    written1=$(written_bytes "$svc_pid")
    rss_kb=$(peak_rss_kb "$svc_pid")
    # Group commit at work: audit records per transaction (one fsync each), from /metrics.
    # The service's /metrics after the run (its own latency histograms), kept with the results.
    mkdir -p "$build/bench-results"
    "${curl_b[@]}" "$svc_scheme://127.0.0.1:$svc_port/metrics" >"$build/bench-results/metrics-${name//#/-}.txt" || true
    per_commit=$(awk '$1 == "cds_audit_records_total" {r = $2} $1 == "cds_audit_commits_total" {c = $2}
           END {if (c > 0) printf "%.1f", r / c; else print "-"}' "$build/bench-results/metrics-${name//#/-}.txt")
    if [ -n "$perf_pid" ]; then
      wait "$perf_pid" 2>/dev/null || true
      local keep=() q
      for q in "${pids[@]}"; do [ "$q" = "$perf_pid" ] || keep+=("$q"); done
      pids=("${keep[@]}")
    fi
    stop_service
    if [ "$(get "$name" tokens_exhausted)" -gt 0 ] && [ "$attempt" = 1 ]; then
      rps=$(get "$name" rps)
      want=$(awk -v r="$rps" -v d="$DURATION" 'BEGIN {printf "%d", r * d * 1.3 + 1000}')
      log "$name: token pool ran out ($(get "$name" tokens_exhausted) requests without a token); again with $want"
      pool_size[$alg]=0
      continue
    fi
    break
  done
  local audited="-"
  if [ -n "$pg_audited0" ]; then  # the database outlives the run: count what this run added
    sleep 0.2
    audited=$(( $(pg_count) - pg_audited0 ))
    [ -n "$pg_user" ] && log "$name: PostgreSQL server CPU $(awk -v t="$((pg_cpu1 - pg_cpu0))" -v hz="$TICKS" \
      -v n="$(get "$name" requests)" 'BEGIN {printf "%.3f ms per request", (n > 0 ? 1000 * t / hz / n : 0)}')"
  elif command -v sqlite3 >/dev/null; then
    audited=$(sqlite3 "$audit_dir/audit.db" "select count(*) from invocation where http_status = 200" 2>/dev/null || echo "?")
  fi
  rps=$(get "$name" rps)
  [ -z "$rate" ] && max_rps[$variant]=$rps
  # Service CPU during the run: cores busy, and CPU milliseconds per answered request.
  local cpu
  cpu=$(awk -v t="$((cpu1 - cpu0))" -v hz="$TICKS" -v d="$(get "$name" duration_s)" -v n="$(get "$name" requests)" \
    'BEGIN {printf "%.2f\t%.2f", t / hz / d, (n > 0 ? 1000 * t / hz / n : 0)}')
  local written_per_req
  written_per_req=$(awk -v b="$((written1 - written0))" -v n="$(get "$name" requests)" 'BEGIN {printf "%.1f", (n > 0 ? b / 1024 / n : 0)}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name${rate:+ @$rate/s}" "$rps" "$(get "$name" p50_ms)" "$(get "$name" p90_ms)" \
    "$(get "$name" p99_ms)" "$(get "$name" p999_ms)" "$(get "$name" non2xx)" "$(get "$name" socket_errors)" \
    "$(awk -v k="$rss_kb" 'BEGIN {printf "%.1f", k/1024}')" "$startup_ms" "$audited" "$per_commit" "$written_per_req" "$cpu" \
    "$( [ -n "$nginx_rps" ] && awk -v a="$rps" -v b="$nginx_rps" 'BEGIN {printf "%.1f%%", 100 * a / b}' || echo -)" \
    "$( [ -n "$ceiling_nettle" ] && [ "$alg" = ES384 ] && [ -z "$reuse" ] &&
        awk -v a="$rps" -v b="$ceiling_nettle" 'BEGIN {printf "%.1f%%", 100 * a / b}' || echo -)" >>"$results"
  [ -n "$rate" ] && log "$name: offered $rate req/s, answered $rps req/s, p99 $(get "$name" p99_ms) ms, late sends $(get "$name" late_sends)"
  rm -rf "$audit_dir"
}

mkdir -p "$build/bench-audit"
disk_fs=$(df -T "$build/bench-audit" | awk 'NR == 2 {print $2}')
[ "$disk_fs" = tmpfs ] && log "WARNING: $build is on tmpfs: the 'disk' audit variants are not on disk"
log "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
probe_response
for round in $(seq 1 "$REPEAT"); do
  for v in $VARIANTS; do
    name=$v
    [ "$REPEAT" -gt 1 ] && name="$v#$round"
    case "$v" in
      nginx) run_nginx get ;;
      nginx-post) run_nginx post ;;
      nginx-post@*) run_nginx post "${v#nginx-post@}" ;;
      startup) run_startup ;;
      callgrind) run_callgrind ;;
      ceiling) run_ceiling ;;
      syscalls) run_syscalls ;;
      plain | plain-shm | tls | plain-rs384 | plain-shm-rs384 | tls-rs384 | plain-c1 | plain-shm-c1 | plain-rs384-c1 | tls-c1 | \
      tls-shm-c1 | plain-noauth | plain-noauth-c1 | tls-noauth | plain-pg | plain-rs384-pg | *-paced | base-*)
        run_service_variant "$v" "$name"
        unset WRK_T WRK_C ;;
      *) die "unknown variant $v" ;;
    esac
  done
done

# The restated targets (bench/README.md), each judged by a ratio or a count from this run only
# (the last round's figure where -r repeats a variant); a variant that did not run is "not run".
print_targets() {
  local syscalls_total
  syscalls_total=$(sed -n 's/.*: \([0-9.]*\) in all.*/\1/p' <<<"$syscalls_summary")
  echo "targets (this run):"
  awk -F'\t' -v sc="$syscalls_total" '
    NR > 1 {n = $1; sub(/ @.*/, "", n); sub(/#.*/, "", n); rps[n] = $2; p99[n] = $5; ng[n] = $16; ce[n] = $17}
    function show(what, value, goal, ok) {printf "  %-58s %-14s %-10s %s\n", what, value, goal, ok}
    function pct(v, goal, what) {if (v == "" || v == "-") show(what, "not run", ">= " goal "%", "-");
                                 else {x = v; sub(/%/, "", x); show(what, v, ">= " goal "%", (x + 0 >= goal) ? "met" : "MISSED")}}
    function lat(v, goal, what) {if (v == "") show(what, "not run", "<= " goal " ms", "-");
                                 else show(what, v " ms", "<= " goal " ms", (v + 0 <= goal) ? "met" : "MISSED")}
    END {
      pct(ng["plain-noauth"], 30, "auth off, plain, disk: % of nginx-post req/s")
      pct(ng["plain-rs384"], 30, "RS384, plain, disk: % of nginx-post req/s")
      pct(ce["plain"], 85, "ES384, plain, disk: % of the 2-core verification ceiling")
      pct(ce["tls"], 85, "ES384, TLS, disk: % of the 2-core verification ceiling")
      lat(p99["plain-noauth-paced"], 2, "p99 at half max, auth off, plain (paced)")
      lat(p99["plain-paced"], 2, "p99 at half max, ES384, plain (paced)")
      lat(p99["plain-rs384-paced"], 2, "p99 at half max, RS384, plain (paced)")
      lat(p99["tls-paced"], 3, "p99 at half max, ES384, TLS (paced)")
      lat(p99["tls-c1"], 2, "p99 at one connection, TLS + ES384 + disk")
      if (sc == "") show("system calls per answer, one connection", "not run", "<= 25", "-");
      else show("system calls per answer, one connection", sc, "<= 25", (sc + 0 <= 25) ? "met" : "MISSED")
      if (rps["plain"] != "" && rps["base-plain"] > 0)
        printf "  ES384 plain req/s, this build / BASE_BUILD_DIR build: %.2fx (%s / %s)\n", rps["plain"] / rps["base-plain"], rps["plain"], rps["base-plain"]
      if (rps["tls"] != "" && rps["base-tls"] > 0)
        printf "  ES384 TLS req/s, this build / BASE_BUILD_DIR build: %.2fx (%s / %s)\n", rps["tls"] / rps["base-tls"], rps["tls"], rps["base-tls"]
    }' "$results"
}

mkdir -p "$build/bench-results"
out="$build/bench-results/load-$(date -u +%Y%m%dT%H%M%SZ).txt"
: >"$out"
{
  echo
  echo "cds-service load test: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency, keep-alive, loopback; service threads=$SERVICE_THREADS"
  echo "audit DB: disk variants on $disk_fs ($build/bench-audit), -shm variants on tmpfs (/dev/shm)"
  echo "request: $(basename "$BODY") ($(stat -c %s "$BODY") B), response $(stat -c %s "$work/www/order-sign.json") B; $(nproc) cores; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  column -t -s $'\t' "$results"
  [ -n "${nginx_ref:-}" ] && echo "%nginx: req/s as a percentage of the $nginx_ref baseline"
  # Audit durability cost: plain (disk, fsync per group commit) vs plain-shm (tmpfs), per round.
  for pair in "plain plain-shm ES384" "plain-rs384 plain-shm-rs384 RS384"; do
    read -r disk shm alg <<<"$pair"
    awk -F'\t' -v disk="$disk" -v shm="$shm" -v alg="$alg" '
      {name = $1; round = ""; if (index(name, "#")) {round = substr(name, index(name, "#")); name = substr(name, 1, index(name, "#") - 1)}}
      name == disk {d[round] = $2} name == shm {m[round] = $2}
      END {for (k in d) if (k in m && m[k] > 0)
             printf "audit on disk vs tmpfs (%s)%s: %.1f%% fewer req/s on disk\n", alg, k, 100 * (m[k] - d[k]) / m[k]}' "$results"
  done
  [ -n "$startup_summary" ] && echo "$startup_summary"
  [ -n "$callgrind_summary" ] && echo "$callgrind_summary"
  [ -n "$syscalls_summary" ] && echo "$syscalls_summary"
  [ -n "$ceiling_summary" ] && echo "$ceiling_summary"
  print_targets
  echo "(results also in $out)"
} 2>&1 | tee -a "$out" >&2
