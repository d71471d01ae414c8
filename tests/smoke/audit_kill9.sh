#!/usr/bin/env bash
# Durability: kill -9 the real service in the middle of a burst of invocations; afterwards
# every request that was answered 200 must have its audit row (acknowledged means committed).
# Usage: audit_kill9.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; echo "--- service log"; tail -20 "$work/service.log"; exit 1; }

bash "$src/certs/make-dev-certs.sh" "$work/certs" >/dev/null
cat >"$work/config.json" <<JSON
{ "tls": { "cert": "certs/server.crt", "key": "certs/server.key" }, "rules_dir": "$src/rules/data",
  "audit": { "db": "audit.db" }, "threads": 2, "auth": { "enabled": false } }
JSON
source "$src/tests/smoke/service_lib.sh"
start_service "$work/config.json"

fixture="$src/tests/fixtures/requests/01-amniotic-fluid-order-sign-type3.json"
original=$(sed -n 's/.*"hookInstance": *"\([^"]*\)".*/\1/p' "$fixture" | head -1)
[ -n "$original" ] || fail "fixture has no hookInstance"

# Four clients, each posting distinct hookInstances until the service dies (bounded count).
burst() {
  local n=$1 i
  for i in $(seq 1 400); do
    local id="burst-$n-$i"
    sed "s/$original/$id/" "$fixture" >"$work/body-$n.json"
    code=$(curl -sS --max-time 5 --cacert "$work/certs/ca.crt" -o /dev/null -w '%{http_code}' \
      -H 'Content-Type: application/json' --data-binary @"$work/body-$n.json" \
      "https://127.0.0.1:$port/cds-services/knee-oa-order-sign" 2>/dev/null || true)
    echo "$id $code" >>"$work/answers-$n"
    [ "$code" = 000 ] && break
  done
}
for n in 1 2 3 4; do burst "$n" & done
sleep 2
kill -9 "$pid"
pid=""
wait

acked=$(cat "$work"/answers-* | awk '$2 == 200 {print $1}')
count=$(echo "$acked" | grep -c . || true)
[ "$count" -ge 10 ] || fail "too few acknowledged requests before the kill ($count) to prove anything"
missing=0
for id in $acked; do
  rows=$(sqlite3 "$work/audit.db" "select count(*) from invocation where hook_instance='$id' and outcome='ok'")
  [ "$rows" = 1 ] || { echo "no audit row for acknowledged $id"; missing=$((missing + 1)); }
done
[ "$missing" = 0 ] || fail "$missing of $count acknowledged invocations have no audit row"
echo "audit durability: all $count acknowledged invocations were committed before kill -9"
