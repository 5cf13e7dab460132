#!/usr/bin/env bash
# Installs the toolchain the project needs into the git-ignored .tools/, only what is missing. Safe to run again.
#   install-tools.sh start    what `npm start` needs: the Temporal CLI (dev server + Web UI) and Mailpit (the local mail
#                             catcher it runs when SMTP_URL is unset; the tests use it too)
#   install-tools.sh test     also Temporal's Java time-skipping test server (Maven Central)
#   install-tools.sh fleet    the production shape's tools (`npm run topology`, the topology and alert-rule tests): the
#                             Temporal server and its SQL schema tool, the Temporal Web UI server, promtool
# Every Go tool is built from the Go module proxy (no download site is reachable at run time), one `go install` per
# module version, so the tools of one module share a build.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
mkdir -p "$TOOLS"

# go_tool <dir> <version> <package@version>...: builds the packages into .tools/<dir> unless its stamp says this
# version is already there. Each tool has its own directory: two of them build a binary named `server`.
go_tool() {
  local dir="$TOOLS/$1" version="$2"; shift 2
  local stamp="$dir/.version"
  if [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then return 0; fi
  echo "[setup] building $(basename "$dir") $version from the Go module proxy (once)"
  local started=$SECONDS
  mkdir -p "$dir"
  GOBIN="$dir" GOFLAGS="-trimpath" go install "$@"
  echo "$version" > "$stamp"
  echo "[setup] $(basename "$dir") built in $((SECONDS - started)) s"
}

case "${1:-start}" in
  start)
    # v1.5.1 is the newest CLI tag that `go install pkg@version` accepts (later tags carry a `replace` in go.mod); it
    # embeds Temporal server 1.29.1, the version the production-shape server below is built at.
    go_tool bin v1.5.1 github.com/temporalio/cli/cmd/temporal@v1.5.1
    go_tool mailpit v1.33.1 github.com/axllent/mailpit@v1.33.1
    ;;
  test)
    POM="$ROOT/tools/test-server/pom.xml"
    STAMP="$TOOLS/test-server/.pom.sha256"
    if [ ! -f "$STAMP" ] || [ "$(sha256sum "$POM" | cut -d' ' -f1)" != "$(cat "$STAMP")" ]; then
      echo "[setup] fetching Temporal's time-skipping test server from Maven Central"
      rm -rf "$TOOLS/test-server/lib"
      mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$TOOLS/test-server/lib"
      mkdir -p "$TOOLS/test-server"
      sha256sum "$POM" | cut -d' ' -f1 > "$STAMP"
    fi
    ;;
  fleet)
    TEMPORAL_SERVER_VERSION=v1.29.1
    go_tool temporal-server "$TEMPORAL_SERVER_VERSION" \
      "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" \
      "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
    # The server's schema files ship in its module, which the build above put in the module cache; a copy beside the
    # binaries keeps them when the module cache is cleaned.
    if [ ! -d "$TOOLS/temporal-server/schema" ]; then
      cp -r "$(go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_SERVER_VERSION/schema/postgresql/v12" "$TOOLS/temporal-server/schema.tmp"
      chmod -R u+w "$TOOLS/temporal-server/schema.tmp"
      mv "$TOOLS/temporal-server/schema.tmp" "$TOOLS/temporal-server/schema"
    fi
    go_tool temporal-ui-server v2.42.1 github.com/temporalio/ui-server/v2/cmd/server@v2.42.1
    go_tool promtool v0.316.0 github.com/prometheus/prometheus/cmd/promtool@v0.316.0
    ;;
  *)
    echo "usage: install-tools.sh [start|test|fleet]" >&2
    exit 2
    ;;
esac
