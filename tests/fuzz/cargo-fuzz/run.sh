#!/usr/bin/env bash
# The cargo-fuzz targets under the stable runner, bounded: SECONDS per target (default 30).
# Builds with the workspace's lock file so the dependencies are those of the service.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
shift || true
if [ ! -f Cargo.lock ]; then cp ../../../Cargo.lock Cargo.lock; fi
# Share the workspace's target directory: the service's dependencies are built already.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/../../../target}"
cargo build --quiet --bin balagh-fuzz-run
exec "$CARGO_TARGET_DIR/debug/balagh-fuzz-run" "$seconds" "$@"
