#!/usr/bin/env bash
# Three replicas of the real service behind one public address, on one PostgreSQL (a
# throw-away cluster of this test's own): they behave as one service.
#  - a JWT accepted by one replica is refused by the others (invocation and discovery);
#  - feedback on a card issued by one replica is accepted by another;
#  - load spread over the three, one killed with -9 mid-burst: every acknowledged hookInstance
#    is in the database afterwards;
#  - one report (cds-report --db postgresql://...) counts every replica's invocations;
#  - PostgreSQL down: invocations answer 503 and /readyz fails; back up: the replicas recover
#    by themselves.
# Usage: pg_replicas.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd) src=$(cd "$2" && pwd)
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cluster="$src/tests/pg/pg_cluster.sh"
cleanup() {
  for p in "${pids[@]}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null || true
  bash "$cluster" stop "$work/pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for n in 1 2 3; do [ -f "$work/r$n.log" ] && { echo "--- replica $n log"; tail -15 "$work/r$n.log"; }; done
  exit 1
}

bash "$cluster" start "$work/pg" >/dev/null || fail "PostgreSQL did not start"
uri=$(cat "$work/pg/uri")
psql_q() { psql -X -A -t -q "$uri" -c "$1"; }

bash "$src/certs/make-dev-certs.sh" "$work/certs" >/dev/null
token_tool="$build/cds-service/cds-token"
"$token_tool" --key "$work/certs/ehr-es384.key" --kid pg-1 --jwks >"$work/jwks.json"
head -c 32 /dev/urandom >"$work/pseudonym.key"  # one key for every replica (a Secret in k8s)
public=https://cds.replicas.test  # the one address the EHR calls (a load balancer's)
cat >"$work/config.json" <<JSON
{
  "tls": { "cert": "certs/server.crt", "key": "certs/server.key" },
  "rules_dir": "$src/rules/data",
  "public_base_url": "$public",
  "audit": { "db": "$uri", "pseudonym_key_file": "pseudonym.key" },
  "threads": 2,
  "auth": { "trusted_issuers": [ { "iss": "https://ehr.replicas.test", "jwks_file": "jwks.json", "clients": ["ehr"] } ] }
}
JSON

# Started together: the schema is created once, under the advisory lock.
ports=() pids=()
for n in 1 2 3; do
  "$build/cds-service/cds-service" --config "$work/config.json" --listen 127.0.0.1:0 2>"$work/r$n.log" &
  pids[$n]=$!
done
for n in 1 2 3; do
  for _ in $(seq 1 150); do
    ports[$n]=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/r$n.log")
    [ -n "${ports[$n]}" ] && break
    kill -0 "${pids[$n]}" 2>/dev/null || fail "replica $n exited at start"
    sleep 0.1
  done
  [ -n "${ports[$n]}" ] || fail "replica $n did not report its port"
done
[ "$(psql_q 'select count(*) from audit_schema')" = 1 ] || fail "schema version rows"

curl_tls=(curl -sS --max-time 10 --cacert "$work/certs/ca.crt")
url() { echo "https://127.0.0.1:${ports[$1]}$2"; }
token() { "$token_tool" --key "$work/certs/ehr-es384.key" --kid pg-1 --iss https://ehr.replicas.test --sub ehr --aud "$public$1"; }
for n in 1 2 3; do
  ready=$("${curl_tls[@]}" "$(url "$n" /readyz)")
  [[ $ready == *'"status":"ready"'* ]] || fail "replica $n not ready: $ready"
done

fixture="$src/tests/fixtures/requests/01-amniotic-fluid-order-sign-type3.json"
original=$(sed -n 's/.*"hookInstance": *"\([^"]*\)".*/\1/p' "$fixture" | head -1)
invoke() {  # invoke REPLICA TOKEN HOOK_INSTANCE -> body, then the status on the last line
  sed "s/$original/$3/" "$fixture" >"$work/body-$3.json"
  "${curl_tls[@]}" -H 'Content-Type: application/json' -H "Authorization: Bearer $2" \
    --data-binary @"$work/body-$3.json" -w '\n%{http_code}' "$(url "$1" /cds-services/knee-oa-order-sign)" 2>/dev/null || echo $'\n000'
}
status_of() { echo "${1##*$'\n'}"; }

# 1. Replay across replicas.
tok=$(token /cds-services/knee-oa-order-sign)
first=$(invoke 1 "$tok" replay-1)
[ "$(status_of "$first")" = 200 ] || fail "first use on replica 1: $first"
for n in 2 3; do
  again=$(invoke "$n" "$tok" "replay-$n")
  [ "$(status_of "$again")" = 401 ] || fail "token replayed to replica $n answered $(status_of "$again")"
  [[ $again == *"jti has already been used"* ]] || fail "replay refusal on replica $n: $again"
done
[ "$(psql_q "select count(*) from invocation where hook_instance like 'replay-%'")" = 1 ] || fail "replays were recorded"
dtok=$(token /cds-services)
[ "$("${curl_tls[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $dtok" "$(url 2 /cds-services)")" = 200 ] \
  || fail "discovery on replica 2"
[ "$("${curl_tls[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $dtok" "$(url 3 /cds-services)")" = 401 ] \
  || fail "a discovery token replayed to replica 3 was accepted"
echo "replay: a token accepted by replica 1 was refused by replicas 2 and 3"

# 2. Feedback on replica 3 for a card replica 1 issued.
body=${first%$'\n'*}
read -r card suggestion < <(python3 -c '
import json, sys
for c in json.loads(sys.argv[1])["cards"]:
    if c.get("suggestions"):
        print(c["uuid"], c["suggestions"][0]["uuid"]); break' "$body")
[ -n "$card" ] || fail "no card with a suggestion in: $body"
cat >"$work/feedback.json" <<JSON
{"feedback": [{"card": "$card", "outcome": "accepted", "acceptedSuggestions": [{"id": "$suggestion"}],
  "outcomeTimestamp": "2026-11-25T12:00:00Z"}]}
JSON
code=$("${curl_tls[@]}" -o "$work/feedback.out" -w '%{http_code}' -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $(token /cds-services/knee-oa-order-sign/feedback)" \
  --data-binary @"$work/feedback.json" "$(url 3 /cds-services/knee-oa-order-sign/feedback)")
[ "$code" = 200 ] || fail "feedback on replica 3 for a card of replica 1: $code $(cat "$work/feedback.out")"
[ "$(psql_q "select count(*) from feedback where card_uuid = '$card' and outcome = 'accepted'")" = 1 ] \
  || fail "feedback not stored"
echo "feedback: a card issued by replica 1 was accepted on replica 3"

# 3. Load over the three replicas, replica 2 killed with -9 in the middle.
burst() {  # burst CLIENT: round-robin over the replicas, a fresh token per call, bounded
  local c=$1 i
  for i in $(seq 1 60); do
    local n=$(( (i + c) % 3 + 1 )) id="load-$c-$i"
    local answer
    answer=$(invoke "$n" "$(token /cds-services/knee-oa-order-sign)" "$id")
    echo "$id $n $(status_of "$answer")" >>"$work/answers-$c"
  done
}
bursts=()
for c in 1 2 3; do burst "$c" & bursts+=($!); done
sleep 3
kill -9 "${pids[2]}"
pids[2]=""
wait "${bursts[@]}"  # not the replicas, which are children too
acked=$(cat "$work"/answers-* | awk '$3 == 200 {print $1}')
count=$(echo "$acked" | grep -c . || true)
on2=$(cat "$work"/answers-* | awk '$2 == 2 && $3 == 200' | wc -l)
[ "$count" -ge 30 ] || fail "too few acknowledged calls ($count) to prove anything"
[ "$on2" -ge 1 ] || fail "replica 2 acknowledged nothing before it was killed"
missing=0
for id in $acked; do
  [ "$(psql_q "select count(*) from invocation where hook_instance = '$id' and outcome = 'ok'")" = 1 ] \
    || { echo "no audit row for acknowledged $id"; missing=$((missing + 1)); }
done
[ "$missing" = 0 ] || fail "$missing of $count acknowledged invocations have no audit row"
echo "load: $count calls acknowledged over three replicas ($on2 by replica 2 before kill -9), every one recorded"

# 4. One report from the shared database, with every replica's invocations.
today=$(date -u +%F)
"$build/cds-service/cds-report" --db "$uri" --from "$today" --to "$today" --format json >"$work/report.json" \
  || fail "cds-report on PostgreSQL"
in_db=$(psql_q "select count(*) from invocation")
in_report=$(python3 -c 'import json,sys; print(sum(r["invocations"] for r in json.load(open(sys.argv[1]))["tables"]["invocations_by_hook_day"]))' "$work/report.json")
[ "$in_report" = "$in_db" ] || fail "report counts $in_report invocations, the database holds $in_db"
echo "report: one report over all replicas ($in_report invocations)"

# 5. PostgreSQL down: 503 (never 200 without a record), /readyz fails; back up: recovery.
bash "$cluster" down "$work/pg"
down=$(invoke 1 "$(token /cds-services/knee-oa-order-sign)" outage-1)
[ "$(status_of "$down")" = 503 ] || fail "with PostgreSQL down an invocation answered $(status_of "$down")"
# Replica 3 had no call since: its readiness probes find the database gone.
not_ready=""
for _ in $(seq 1 30); do
  if [ "$("${curl_tls[@]}" -o /dev/null -w '%{http_code}' "$(url 3 /readyz)")" = 503 ]; then not_ready=yes; break; fi
  sleep 0.2
done
[ -n "$not_ready" ] || fail "/readyz of replica 3 still 200 with PostgreSQL down"
bash "$cluster" up "$work/pg"
recovered=""
for _ in $(seq 1 30); do
  if [ "$("${curl_tls[@]}" -o /dev/null -w '%{http_code}' "$(url 3 /readyz)")" = 200 ]; then recovered=yes; break; fi
  sleep 0.5
done
[ -n "$recovered" ] || fail "replica 3 not ready again after PostgreSQL came back"
after=$(invoke 1 "$(token /cds-services/knee-oa-order-sign)" outage-2)
[ "$(status_of "$after")" = 200 ] || fail "after PostgreSQL came back an invocation answered $(status_of "$after")"
[ "$(psql_q "select count(*) from invocation where hook_instance = 'outage-1'")" = 0 ] || fail "a 503 was recorded as answered"
echo "outage: 503 and not ready while PostgreSQL was down; recovered by itself"
echo "pg_replicas: 5 passed, 0 failed"
