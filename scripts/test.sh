#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite. Prints CTest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --with-browser
./scripts/build.sh
ctest --test-dir build --output-on-failure -j 2 --timeout 300
