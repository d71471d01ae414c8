#!/usr/bin/env bash
# CTest entry: evaluates every fixture request (and the benchmark request) with cds-eval at the
# fixtures' fixed "now", then validates every suggested resource with an independent FHIR R4
# validator (validate.js, the `fhir` npm package pinned in package-lock.json).
# Usage: run.sh BUILD_DIR SOURCE_DIR. Fails, never skips, when node or npm is missing.
set -euo pipefail
build=$1 src=$2
here="$src/tests/fhir-validator"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "fhir-validator: node and npm are required (deploy/install-deps.sh installs them)" >&2
  exit 1
fi
# Installed from the lock file, once per lock file change.
stamp="$here/node_modules/.installed-lock"
if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$here/package-lock.json" "$stamp"
fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
requests=("$src"/tests/fixtures/requests/*.json "$src/bench/data/order-sign-60.json")
for request in "${requests[@]}"; do
  name=$(basename "$request" .json)
  now=2026-11-25T12:00:00Z
  expected="$src/tests/fixtures/expected/$name.json"
  if [ -f "$expected" ]; then now=$(node -e 'console.log(require(process.argv[1]).now)' "$expected"); fi
  "$build/cds-service/cds-eval" "$request" --now "$now" --rules "$src/rules/data" \
    --base-url https://cds.example.org > "$out/$name.json"
done
node "$here/validate.js" "$out"/*.json
