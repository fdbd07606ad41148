#!/usr/bin/env bash
# Prepare the end-to-end browser test harness. Idempotent: safe to run again.
#   1. Debian's `chromium` package (binary /usr/bin/chromium), installed only
#      when that binary is missing. Needs root (or passwordless sudo).
#   2. `npm ci` in tests/browser, only when node_modules/playwright-core is
#      missing. Playwright is never allowed to download a browser of its own.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CHROMIUM=/usr/bin/chromium

say() { printf 'setup.sh: %s\n' "$*"; }
die() { printf 'setup.sh: ERROR: %s\n' "$*" >&2; exit 1; }

# --- 1. Chromium from Debian ------------------------------------------------
if [ -x "$CHROMIUM" ]; then
  say "chromium present: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
  say "$CHROMIUM missing: installing Debian package 'chromium'"
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install Debian's 'chromium' package by hand"
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      SUDO=(sudo -n)
    else
      die "not root and no passwordless sudo: cannot install 'chromium' (run: apt-get update && apt-get install -y --no-install-recommends chromium)"
    fi
  fi
  say "running: apt-get update"
  "${SUDO[@]}" apt-get update || die "apt-get update failed"
  say "running: apt-get install -y --no-install-recommends chromium"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends chromium \
    || die "apt-get install chromium failed"
  [ -x "$CHROMIUM" ] || die "package 'chromium' installed but $CHROMIUM is still missing"
  say "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
fi

# --- 2. playwright-core from npm ------------------------------------------
command -v node >/dev/null 2>&1 || die "node not found (Node.js >= 20 is required)"
command -v npm >/dev/null 2>&1 || die "npm not found"
NODE_MAJOR="$(node -p 'process.versions.node.split(".")[0]')"
[ "$NODE_MAJOR" -ge 20 ] || die "Node.js >= 20 required, found $(node --version)"

if [ -d "$HERE/node_modules/playwright-core" ] && [ -f "$HERE/node_modules/axe-core/axe.min.js" ]; then
  say "playwright-core present: $(node -p "require('$HERE/node_modules/playwright-core/package.json').version")"
else
  say "node_modules (playwright-core, axe-core) incomplete: running npm ci --no-audit --no-fund in $HERE"
  [ -f "$HERE/package-lock.json" ] || die "$HERE/package-lock.json missing (npm ci needs it)"
  (
    cd "$HERE"
    # playwright-core downloads nothing on install; make sure nothing tries to.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
  ) || die "npm ci failed in $HERE"
  [ -d "$HERE/node_modules/playwright-core" ] || die "npm ci finished but node_modules/playwright-core is missing"
  say "playwright-core installed: $(node -p "require('$HERE/node_modules/playwright-core/package.json').version")"
fi

say "ready"
