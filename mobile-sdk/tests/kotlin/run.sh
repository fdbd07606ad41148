#!/usr/bin/env bash
# The Kotlin binding, compiled and run against the real server (called by
# mobile-sdk/run-tests.sh after it generated the bindings):
#   1. installs what is missing (setup.sh: JDK, JNA, sqlite3, kotlinc 2.4.20 from npm);
#   2. checks that the generated file carries KDoc for the whole public API (check_kdoc.py);
#   3. compiles the generated binding with the test program in ONE kotlinc run, cached: the
#      jar is keyed by a hash of the sources and the compiler version, so an unchanged
#      binding and test are not compiled again;
#   4. runs the resident's scenario (Scenario.kt) on the JVM, the binding loading
#      libbalagh_sdk_ffi.so through JNA, against the `balagh` binary.
#
#   bash mobile-sdk/tests/kotlin/run.sh <target dir> <balagh binary>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$(cd "$1" && pwd)"
binary="$2"
lib_dir="$target/debug"
binding="$target/sdk-kotlin/ma/balagh/sdk/balagh_sdk_ffi.kt"
[ -s "$binding" ] || { echo "kotlin: $binding missing (generate the bindings first)" >&2; exit 1; }
[ -f "$lib_dir/libbalagh_sdk_ffi.so" ] || { echo "kotlin: $lib_dir/libbalagh_sdk_ffi.so missing" >&2; exit 1; }
started=$SECONDS

kotlin_home="$(bash "$here/setup.sh" | tail -n 1)"
kotlinc="$kotlin_home/bin/kotlinc"
jna=/usr/share/java/jna.jar
coroutines="$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar"
stdlib="$kotlin_home/lib/kotlin-stdlib.jar"
setup_seconds=$((SECONDS - started))

python3 "$here/check_kdoc.py" "$binding"

sources=("$binding" "$here"/*.kt)
key="$( { cat "${sources[@]}"; cat "$kotlin_home/build.txt" 2>/dev/null; } | sha256sum | cut -c1-16)"
jars="$target/kotlin-scenario"
jar="$jars/scenario-$key.jar"
compile_seconds=0
if [ -f "$jar" ]; then
  echo "kotlin: sources unchanged, reusing $jar"
else
  mkdir -p "$jars"
  rm -f "$jars"/*.jar
  compile_started=$SECONDS
  # -nowarn: the generated binding's own warnings (unused variables…) are not ours to fix.
  # kotlinc writes a jar when -d ends in .jar; renamed once complete.
  # Bounded: about a minute on 2 busy cores; ten means something is wrong.
  JAVA_OPTS="${JAVA_OPTS:--Xmx1g}" timeout 600 "$kotlinc" -nowarn -cp "$jna:$coroutines" \
    -d "$jars/partial-$key.jar" "${sources[@]}"
  mv "$jars/partial-$key.jar" "$jar"
  compile_seconds=$((SECONDS - compile_started))
fi

run_started=$SECONDS
status=0
# Bounded too: the scenario takes seconds (each server start waits at most 90 s).
timeout 300 java -Djna.library.path="$lib_dir" -cp "$jar:$jna:$coroutines:$stdlib" \
  ma.balagh.sdktest.ScenarioKt "$binary" || status=$?
run_seconds=$((SECONDS - run_started))
echo "kotlin: setup ${setup_seconds} s, compile ${compile_seconds} s (0: cached), run ${run_seconds} s"
exit "$status"
