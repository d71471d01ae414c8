#!/usr/bin/env bash
# Smoke test of the real binaries, the way README shows them: cds-service over HTTPS with a
# freshly made development certificate, called with curl; and cds-eval on a fixture.
# Usage: binary_smoke.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

bash "$src/certs/make-dev-certs.sh" "$work/certs" >/dev/null
token_tool="$build/cds-service/cds-token"
"$token_tool" --key "$work/certs/ehr-es384.key" --kid smoke-1 --jwks >"$work/jwks.json"
cat >"$work/config.json" <<JSON
{
  "tls": { "cert": "certs/server.crt", "key": "certs/server.key" },
  "rules_dir": "$src/rules/data",
  "audit": { "db": "audit.db" },
  "threads": 2,
  "auth": { "trusted_issuers": [ { "iss": "https://ehr.smoke.test", "jwks_file": "jwks.json", "clients": ["smoke-ehr"] } ] }
}
JSON
fail() { echo "FAIL: $*"; echo "--- service log"; cat "$work/service.log"; exit 1; }
source "$src/tests/smoke/service_lib.sh"
start_service "$work/config.json"
base="https://127.0.0.1:$port"
curl_tls=(curl -sS --max-time 5 --cacert "$work/certs/ca.crt")
# A fresh token per call: jti is single-use.
token() { "$token_tool" --key "$work/certs/ehr-es384.key" --kid smoke-1 --iss https://ehr.smoke.test --sub smoke-ehr --aud "$base$1"; }

ready=$("${curl_tls[@]}" "$base/readyz")
[[ $ready == *'"status":"ready"'* && $ready == *'"rulesVersion":"sha256:'* ]] || fail "readyz: $ready"

unauthorized=$("${curl_tls[@]}" -o /dev/null -w '%{http_code}' "$base/cds-services")
[ "$unauthorized" = 401 ] || fail "discovery without a token answered $unauthorized"
services=$("${curl_tls[@]}" -H "Authorization: Bearer $(token /cds-services)" "$base/cds-services")
for id in knee-oa-order-select knee-oa-order-sign knee-oa-patient-view; do
  [[ $services == *"\"id\":\"$id\""* ]] || fail "discovery lacks $id: $services"
done

fixture="$src/tests/fixtures/requests/01-amniotic-fluid-order-sign-type3.json"
answer=$("${curl_tls[@]}" -H 'Content-Type: application/json' --data-binary @"$fixture" \
  -H "Authorization: Bearer $(token /cds-services/knee-oa-order-sign)" \
  -w '\n%{http_code}' "$base/cds-services/knee-oa-order-sign")
code=${answer##*$'\n'}
[ "$code" = 200 ] || fail "invocation status $code: $answer"
[[ $answer == *'"indicator":"critical"'* ]] || fail "no critical card: $answer"

# Plain HTTP is refused on the TLS port (no downgrade).
if curl -sS --max-time 3 "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then fail "plain HTTP answered on the TLS port"; fi

# cds-eval prints the same card kinds offline.
offline=$("$build/cds-service/cds-eval" "$fixture" --now 2026-11-25T12:00:00Z --rules "$src/rules/data")
[[ $offline == *'"indicator":"critical"'* && $offline == *'"indicator":"info"'* ]] || fail "cds-eval: $offline"

# The audit file has the invocation, committed.
rows=$(sqlite3 "$work/audit.db" "select count(*) from invocation where outcome='ok'")
[ "$rows" = 1 ] || fail "audit rows: $rows"

# SIGTERM stops it cleanly.
kill -TERM "$pid"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then fail "service did not stop on SIGTERM"; fi
pid=""
echo "binary smoke test passed"
