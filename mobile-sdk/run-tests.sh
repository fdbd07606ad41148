#!/usr/bin/env bash
# Mobile SDK checks: builds the UniFFI library, `uniffi-bindgen` and the `balagh` binary,
# runs the Rust core's tests against the real binary, generates the Python, Kotlin and
# Swift bindings from the built library, runs the Python tests through the generated
# bindings against a live server, and compiles the Kotlin binding with a Kotlin test program
# and runs it on the JVM against a live server (mobile-sdk/tests/kotlin/run.sh, which
# installs what it needs when missing: kotlinc from npm, JNA and a JDK from Debian).
#
#   bash mobile-sdk/run-tests.sh            # everything
#   SDK_SKIP_BUILD=1 SDK_SKIP_RUST_TESTS=1 bash mobile-sdk/run-tests.sh
#       bindings only, with what `cargo build --workspace` built (as tests/run does; it runs
#       the SDK's Rust tests with the workspace's)
# Idempotent: generated files go to target/sdk-{python,kotlin,swift}, rewritten each run.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
target="${CARGO_TARGET_DIR:-target}"
started=$SECONDS
step() { echo "==> sdk: $* (+$((SECONDS - started)) s)"; }

if [ -z "${SDK_SKIP_BUILD:-}" ]; then
  step "build balagh, the FFI library and uniffi-bindgen"
  # One cargo invocation, so uniffi is compiled once with the features of both crates.
  cargo build --locked -p balagh -p balagh-sdk-ffi -p balagh-uniffi-bindgen
fi
lib="$target/debug/libbalagh_sdk_ffi.so"
bindgen="$target/debug/uniffi-bindgen"
BALAGH_TEST_BINARY="$(cd "$target/debug" && pwd)/balagh"
export BALAGH_TEST_BINARY

if [ -z "${SDK_SKIP_RUST_TESTS:-}" ]; then
  step "Rust core tests (real balagh binary)"
  cargo test --locked -p balagh-sdk
fi

for language in python kotlin swift; do
  step "generate $language bindings"
  rm -rf "$target/sdk-$language"
  "$bindgen" generate --no-format --library "$lib" --language "$language" --out-dir "$target/sdk-$language" >/dev/null
done
cp "$lib" "$target/sdk-python/"
test -s "$target/sdk-python/balagh_sdk_ffi.py"
kotlin_file="$(find "$target/sdk-kotlin" -name '*.kt' | head -n 1)"
test -s "$kotlin_file"
# A Kotlin exception cannot have a `message` property of its own (Throwable has one).
if grep -q 'val `message`' "$kotlin_file"; then
  echo "sdk: an error variant has a field named message; Kotlin cannot compile it" >&2
  exit 1
fi
test -s "$target/sdk-swift/BalaghSDK.swift"
test -s "$target/sdk-swift/balagh_sdk_ffiFFI.h"
test -s "$target/sdk-swift/balagh_sdk_ffiFFI.modulemap"
echo "   python: $target/sdk-python/balagh_sdk_ffi.py"
echo "   kotlin: $kotlin_file"
echo "   swift:  $target/sdk-swift/BalaghSDK.swift (+ header and modulemap)"

step "Python tests through the generated bindings (live server)"
SDK_PYTHON_DIR="$target/sdk-python" BALAGH_BINARY="$BALAGH_TEST_BINARY" \
  python3 mobile-sdk/tests/test_bindings.py

step "Kotlin: KDoc check, compile (one kotlinc run, cached by source hash), scenario on the JVM (live server)"
bash mobile-sdk/tests/kotlin/run.sh "$target" "$BALAGH_TEST_BINARY"
step "done"
