#!/usr/bin/env bash
# One hash over everything the addon is compiled from, so a committed
# prebuild can be checked against the sources it claims to be built from.
set -euo pipefail
cd "$(dirname "$0")/.."
{ ls native/src/*.cc native/src/*.h native/cuda/* CMakeLists.txt | LC_ALL=C sort | xargs sha256sum; } | sha256sum | cut -d' ' -f1
