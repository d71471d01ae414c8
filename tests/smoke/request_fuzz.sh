#!/usr/bin/env bash
# Seeded fuzzing of the real cds-service (plain HTTP on 127.0.0.1, auth off, its own audit
# file): no 5xx, no non-JSON error, conformant cards, no hang, still up at the end. Under the
# sanitized build (deploy/test.sh) a memory error or undefined behaviour aborts the service and
# fails the run. Usage: request_fuzz.sh BUILD_DIR SOURCE_DIR [request_fuzz.py options]
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
shift 2
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
# "fuzz-admin" is the reports' admin token here (its SHA-256 below).
cat >"$work/config.json" <<JSON
{
  "tls": { "enabled": false },
  "rules_dir": "$src/rules/data",
  "audit": { "db": "$work/audit.db" },
  "threads": 2,
  "auth": { "enabled": false },
  "admin": { "token_sha256": ["1c64ed42d0e14a2b1a137b7634c45cc09a6b67d48ea1767a8a30cdad14225918"] }
}
JSON
fail() { echo "FAIL: $*"; echo "--- service log"; tail -50 "$work/service.log"; exit 1; }
source "$src/tests/smoke/service_lib.sh"
start_service "$work/config.json"
python3 "$src/tests/smoke/request_fuzz.py" "$port" "$src/tests/fixtures/requests" "$@" || fail "request_fuzz.py"
kill -0 "$pid" 2>/dev/null || fail "the service died"
if grep -E "runtime error|AddressSanitizer" "$work/service.log"; then fail "sanitizer report"; fi
echo "request_fuzz: ok"
