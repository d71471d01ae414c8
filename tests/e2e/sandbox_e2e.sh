#!/usr/bin/env bash
# End to end with a real, independent CDS client: the CDS Hooks Sandbox as shipped (vendored
# build in ../shared, never copied into the repository), driven in headless Chromium against the
# real cds-service binary, which trusts the sandbox's issuer by its public key file (jwks_file)
# alone. The sandbox reads a patient from a small loopback FHIR server, so every step is the
# sandbox's own: discovery, the JWT it signs (with a jku we do not allowlist), prefetch, card
# rendering, a suggestion accepted, a card dismissed with an override reason, and the Rx View's
# order-select call with a condition chosen under "Treating" (its reasonCode is one object).
# Fails, never skips, when Chromium, Node or the sandbox is missing.
# Usage: sandbox_e2e.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
out="$build/e2e"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  # What a person would look at afterwards, beside the screenshots: the audit file and the logs.
  cp "$work"/audit.db* "$work/service.log" "$work/fhir-requests.log" "$out/" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "sandbox_e2e: FAIL: $*" >&2
  [ -f "$work/service.log" ] && { echo "--- service log" >&2; tail -n 40 "$work/service.log" >&2; }
  exit 1
}

sandbox="$src/../shared/vendor/cds-hooks-sandbox/build"
[ -f "$sandbox/index.html" ] || fail "no vendored sandbox at $sandbox (shared/ must sit beside the project)"
chromium_bin=$(command -v chromium || true)
[ -n "$chromium_bin" ] || fail "chromium is not installed (deploy/install-deps.sh installs it)"
command -v node >/dev/null || fail "node is not installed (deploy/install-deps.sh installs it)"
command -v sqlite3 >/dev/null || fail "sqlite3 is not installed"

# The driver and its pinned dependencies, installed from the committed lockfile into the build
# folder (the source tree stays clean). Reinstalled only when the lockfile changes.
mkdir -p "$out/screenshots"
rm -f "$out"/screenshots/*.png
cp "$src/tests/e2e/package.json" "$src/tests/e2e/package-lock.json" "$src/tests/e2e/driver.mjs" "$out/"
if ! cmp -s "$out/package-lock.json" "$out/node_modules/.installed-lock" 2>/dev/null; then
  (cd "$out" && timeout 300 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error) || fail "npm ci failed"
  cp "$out/package-lock.json" "$out/node_modules/.installed-lock"
fi

# Static sandbox + FHIR server (both loopback, CORS), from the patient-view fixture whose patient
# had a single BMAC injection for knee OA and whose pain persisted.
python3 "$src/tests/e2e/servers.py" --sandbox "$sandbox" \
  --fixture "$src/tests/fixtures/requests/20-patient-view-pain-persisted.json" \
  --log "$work/fhir-requests.log" --lifetime-s 600 >"$work/ports.json" 2>"$work/servers.log" &
pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/ports.json" ] && break; sleep 0.1; done
[ -s "$work/ports.json" ] || fail "loopback servers did not start: $(cat "$work/servers.log")"
read -r fhir_port static_port patient < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["fhir_port"], d["static_port"], d["patient"])' "$work/ports.json")

# The service: auth on, the sandbox's issuer trusted by its public key file only (no jku
# allowlist, no fhir_servers: the sandbox's http FHIR server is never contacted by us), CORS for
# the sandbox's origin. Plain HTTP on loopback, as the sandbox page itself is served.
cat >"$work/config.json" <<EOF
{
  "tls": { "enabled": false },
  "rules_dir": "$src/rules/data",
  "audit": { "db": "$work/audit.db" },
  "cors": { "allowed_origins": ["http://127.0.0.1:$static_port"] },
  "auth": {
    "enabled": true,
    "trusted_issuers": [ { "iss": "https://sandbox.cds-hooks.org", "jwks_file": "$sandbox/.well-known/jwks.json" } ]
  }
}
EOF
"$build/cds-service/cds-service" --config "$work/config.json" --listen 127.0.0.1:0 2>"$work/service.log" &
pids+=($!)
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/service.log")
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "service did not report its port"

timeout 240 node "$out/driver.mjs" --chromium "$chromium_bin" --screenshots "$out/screenshots" \
  --sandbox "http://127.0.0.1:$static_port/index.html" --service "http://127.0.0.1:$port" \
  --fhir "http://127.0.0.1:$fhir_port/fhir" --patient "$patient" >"$work/driver.log" 2>&1 \
  || { cat "$work/driver.log" >&2; fail "the browser run failed (screenshots in $out/screenshots)"; }
cat "$work/driver.log"

# What the service recorded: the sandbox's calls authenticated (issuer, no sub), both feedback
# rows, and the order-select call answered 200 with the malformed reasonCode recorded as a
# data-quality issue (its path only).
q() { sqlite3 -batch -noheader "$work/audit.db" "$1"; }
passed=0 failed=0
check() {  # check NAME ACTUAL EXPECTED
  if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok: $1"; else failed=$((failed + 1)); echo "FAILED: $1: got '$2', want '$3'"; fi
}
check "patient-view answered 200 for the sandbox issuer without sub" \
  "$(q "SELECT COUNT(*) > 0 FROM invocation WHERE service_id='knee-oa-patient-view' AND http_status=200 AND jwt_iss='https://sandbox.cds-hooks.org' AND jwt_sub=''")" 1
check "an accepted feedback row for a whole-joint-plan card" \
  "$(q "SELECT COUNT(*) FROM feedback f JOIN card c ON c.uuid=f.card_uuid WHERE f.outcome='accepted' AND c.rule_id='whole-joint-plan' AND f.accepted_suggestions LIKE '[\"%'")" 1
check "an overridden feedback row with the reason chosen in the Dismiss menu" \
  "$(q "SELECT COUNT(*) FROM feedback f JOIN card c ON c.uuid=f.card_uuid WHERE f.outcome='overridden' AND f.override_reason = 'http://127.0.0.1:$port/fhir/CodeSystem/override-reason|patient-declined' AND f.card_uuid NOT IN (SELECT card_uuid FROM feedback WHERE outcome='accepted')")" 1
check "order-select answered 200 (never 400)" \
  "$(q "SELECT COUNT(*) > 0, SUM(http_status <> 200) FROM invocation WHERE service_id='knee-oa-order-select'")" "1|0"
check "the draft's one-object reasonCode recorded as a data-quality issue, call incomplete" \
  "$(q "SELECT COUNT(*) > 0 FROM invocation WHERE service_id='knee-oa-order-select' AND outcome='incomplete' AND data_issues LIKE '%MedicationRequest.reasonCode%'")" 1
check "the untrusted jku was never fetched and its use logged once" \
  "$(grep -c 'token jku https://sandbox.cds-hooks.org/.well-known/jwks.json is not on its jku_allowlist' "$work/service.log")" 1
check "no 401 was answered" "$(grep -c 'authentication refused' "$work/service.log" || true)" 0
ls "$out/screenshots"
echo "sandbox_e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
