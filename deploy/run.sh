#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install build deps, create development
# certificates, build the service (Release) and start it on https://127.0.0.1:8443.
# Extra arguments are passed to cds-service. Safe to rerun: every step is idempotent.
set -euo pipefail

# Work from the repository root so every relative path below is stable.
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Packages need root; use sudo only when we are not root already.
if [ "$(id -u)" -eq 0 ]; then
  deploy/install-deps.sh
elif command -v sudo >/dev/null; then
  sudo deploy/install-deps.sh
else
  echo "run.sh: not root and sudo is missing; run deploy/install-deps.sh as root first" >&2
  exit 1
fi

# Development-only TLS certificates (skipped when a valid set exists).
certs/make-dev-certs.sh

# An existing build/ made with another generator would make cmake fail with a
# confusing message; say what to do instead of deleting someone's build tree.
if [ -f build/CMakeCache.txt ] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=Ninja' build/CMakeCache.txt; then
  echo "run.sh: build/ was configured with a different generator; remove it (rm -rf build) and rerun" >&2
  exit 1
fi

cmake_args=(-S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release)
# ccache makes rebuilds after small edits fast.
if command -v ccache >/dev/null; then
  cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake "${cmake_args[@]}"
cmake --build build --target cds-service cds-token cds-eval

# The demo EHR's public key as a JWK Set: the service trusts tokens signed by its private key.
build/cds-service/cds-token --key certs/dev/ehr-es384.key --kid dev-ehr-es384 --jwks > certs/dev/ehr-jwks.json

# The audit database (SQLite) lives here; it must be on a local disk.
mkdir -p var

# exec: the service becomes this process, so Ctrl-C / SIGTERM / SIGHUP reach it directly.
echo "run.sh: mint a token for each call (jti is single-use), e.g.:"
echo "  TOKEN=\$(build/cds-service/cds-token --key certs/dev/ehr-es384.key --kid dev-ehr-es384 --iss https://ehr.example.org --sub demo-ehr --aud https://127.0.0.1:8443/cds-services)"
exec build/cds-service/cds-service --config deploy/dev-config.json "$@"
