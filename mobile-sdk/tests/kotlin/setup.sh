#!/usr/bin/env bash
# Installs what the Kotlin binding test needs, only what is missing (a run with everything in
# place returns at once):
#   - Debian packages: a JDK 17 (`java`), JNA 5.13 (`libjna-java`, /usr/share/java/jna.jar),
#     `sqlite3` (the test counts the server's reports in its database);
#   - the JetBrains Kotlin compiler from the npm package `kotlin-compiler` (pinned), with
#     kotlin-stdlib and kotlinx-coroutines-core-jvm, into a cache folder, never globally.
# Prints the Kotlin home (the folder with bin/kotlinc and lib/) as its last line.
#   KOTLIN_TOOLS_DIR   where the compiler goes (default ~/.cache/balagh)
set -euo pipefail

KOTLIN_VERSION=2.4.20
tools="${KOTLIN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/balagh}/kotlin-$KOTLIN_VERSION"
kotlin_home="$tools/node_modules/kotlin-compiler"
JNA_JAR=/usr/share/java/jna.jar

say() { printf 'kotlin setup: %s\n' "$*" >&2; }
die() { printf 'kotlin setup: ERROR: %s\n' "$*" >&2; exit 1; }

# --- 1. Debian packages -----------------------------------------------------
missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jdk-headless)
[ -f "$JNA_JAR" ] || missing+=(libjna-java)
command -v sqlite3 >/dev/null 2>&1 || missing+=(sqlite3)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian packages: ${missing[*]}"
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install ${missing[*]} by hand"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      SUDO=(sudo -n)
    else
      die "not root and no passwordless sudo: run apt-get install -y ${missing[*]}"
    fi
  fi
  # Other jobs on the machine may hold the dpkg lock for a while: wait for it.
  apt=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2; then
    "${apt[@]}" update >&2 || die "apt-get update failed"
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}" >&2 \
      || die "apt-get install ${missing[*]} failed"
  fi
fi
command -v java >/dev/null 2>&1 || die "java still missing"
[ -f "$JNA_JAR" ] || die "$JNA_JAR still missing"
java_major="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
[ "${java_major:-0}" -ge 11 ] 2>/dev/null || die "Java >= 11 needed (java.net.http), found ${java_major:-?}"

# --- 2. The Kotlin compiler from npm ----------------------------------------
if [ ! -x "$kotlin_home/bin/kotlinc" ] || [ ! -f "$kotlin_home/lib/kotlinx-coroutines-core-jvm.jar" ]; then
  command -v npm >/dev/null 2>&1 || die "npm not found (needed to fetch kotlin-compiler)"
  say "installing kotlin-compiler@$KOTLIN_VERSION (npm) into $tools"
  mkdir -p "$tools"
  npm install --prefix "$tools" --no-audit --no-fund --save-exact "kotlin-compiler@$KOTLIN_VERSION" >&2 \
    || die "npm install kotlin-compiler@$KOTLIN_VERSION failed"
  for file in bin/kotlinc lib/kotlin-stdlib.jar lib/kotlinx-coroutines-core-jvm.jar; do
    [ -f "$kotlin_home/$file" ] || die "kotlin-compiler installed but $file is missing"
  done
fi
echo "$kotlin_home"
