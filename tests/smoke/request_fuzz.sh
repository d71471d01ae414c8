#!/usr/bin/env bash
# Seeded fuzzing of the real cds-service (plain HTTP on 127.0.0.1, its own audit files): one
# instance with auth off for requests, feedback, reports and framing, one with auth on for
# JWTs. No 5xx, no non-JSON error, conformant cards, no hang, both still up at the end. Under the
# sanitized build (deploy/test.sh) a memory error or undefined behaviour aborts the service and
# fails the run. Usage: request_fuzz.sh BUILD_DIR SOURCE_DIR [request_fuzz.py options]
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
shift 2
work=$(mktemp -d)
pid="" auth_pid=""
cleanup() {
  for p in $pid $auth_pid; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# "fuzz-admin" is the reports' admin token here (its SHA-256 below).
cat >"$work/config.json" <<JSON
{
  "tls": { "enabled": false },
  "rules_dir": "$src/rules/data",
  "audit": { "db": "$work/audit.db" },
  "threads": 2,
  "auth": { "enabled": false },
  "outbound": { "ca_file": "$work/certs/ca.crt" },
  "fhir": { "timeout_ms": 800 },
  "admin": { "token_sha256": ["1c64ed42d0e14a2b1a137b7634c45cc09a6b67d48ea1767a8a30cdad14225918"] }
}
JSON
# A second service with auth on, for the JWT phase: a real ES384 key and 150 real tokens.
bash "$src/certs/make-dev-certs.sh" "$work/certs" >/dev/null
token_tool="$build/cds-service/cds-token"
"$token_tool" --key "$work/certs/ehr-es384.key" --kid fuzz-1 --jwks >"$work/jwks.json"
cat >"$work/auth-config.json" <<JSON
{
  "tls": { "enabled": false },
  "public_base_url": "http://127.0.0.1",
  "rules_dir": "$src/rules/data",
  "audit": { "db": "$work/auth-audit.db" },
  "threads": 2,
  "auth": { "trusted_issuers": [ { "iss": "https://ehr.fuzz.test", "jwks_file": "$work/jwks.json", "clients": ["fuzz-ehr"] } ] }
}
JSON
for _ in $(seq 1 150); do
  "$token_tool" --key "$work/certs/ehr-es384.key" --kid fuzz-1 --iss https://ehr.fuzz.test --sub fuzz-ehr \
    --aud http://127.0.0.1/cds-services/knee-oa-order-sign
  echo
done >"$work/tokens.txt"

fail() { echo "FAIL: $*"; for log in "$work"/service*.log; do echo "--- $log"; tail -50 "$log"; done; exit 1; }
source "$src/tests/smoke/service_lib.sh"
start_service "$work/auth-config.json"
auth_pid=$pid auth_port=$port
mv "$work/service.log" "$work/service-auth.log"
start_service "$work/config.json"
python3 "$src/tests/smoke/request_fuzz.py" "$port" "$src/tests/fixtures/requests" \
  --auth-port "$auth_port" --tokens "$work/tokens.txt" "$@" || fail "request_fuzz.py"
python3 "$src/tests/smoke/fhir_fuzz.py" "$port" "$src/tests/fixtures/requests" --budget-ms 800 \
  --cert "$work/certs/server.crt" --key "$work/certs/server.key" || fail "fhir_fuzz.py"
kill -0 "$pid" 2>/dev/null || fail "the service died"
kill -0 "$auth_pid" 2>/dev/null || fail "the service with auth on died"
if grep -E "runtime error|AddressSanitizer" "$work"/service*.log; then fail "sanitizer report"; fi
echo "request_fuzz: ok"
