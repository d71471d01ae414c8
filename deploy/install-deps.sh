#!/usr/bin/env bash
# Installs every Debian 12 package needed to build, run, test and benchmark the service.
# Idempotent: apt-get skips what is already installed. Run as root (or via sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl openssl ccache
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
  libssl-dev libsqlite3-dev sqlite3 nettle-dev libpq-dev postgresql
  python3
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  gnuplot-nox  # bench/soak plots
  # The end-to-end test drives the vendored CDS Hooks Sandbox in headless Chromium (puppeteer-core
  # from npm, pinned by tests/e2e/package-lock.json).
  chromium
)
# Node and npm run the independent FHIR validator test (tests/fhir-validator). A node that came
# with its own npm (e.g. from NodeSource) is kept: Debian's npm package would conflict with it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then packages+=(nodejs npm); fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# npm ships inside some nodejs builds and as Debian's own "npm" package with others.
if ! command -v npm >/dev/null; then
  dpkg-query -W -f='${Status}' npm 2>/dev/null | grep -q "install ok installed" || missing+=(npm)
fi

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
