#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install deps, build everything (with
# AddressSanitizer + UBSan, so memory errors fail the run) and run every test with CTest.
# Exits non-zero when any test fails. Used as-is by CI (.ci/run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -eq 0 ]; then deploy/install-deps.sh; else sudo deploy/install-deps.sh; fi

build=${BUILD_DIR:-build-test}
cmake_args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCDS_SANITIZE=ON -DCDS_BUILD_TESTS=ON)
if command -v ccache >/dev/null; then cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake "${cmake_args[@]}"
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" --timeout 300
