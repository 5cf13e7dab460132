#!/usr/bin/env bash
# Installs the toolchain the project needs into the git-ignored .tools/, only what is missing. Safe to run again.
#  - Temporal CLI (dev server + Web UI), built from the Go module proxy. v1.5.1 is the newest tag that
#    `go install pkg@version` accepts: later tags carry a `replace` directive in go.mod.
#  - Temporal's Java time-skipping test server, fetched from Maven Central by tools/test-server/pom.xml.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
TEMPORAL_CLI_VERSION="v1.5.1"

mkdir -p "$TOOLS/bin"

if [ ! -x "$TOOLS/bin/temporal" ] || [ "$(cat "$TOOLS/bin/.temporal-version" 2>/dev/null)" != "$TEMPORAL_CLI_VERSION" ]; then
  echo "[setup] building the Temporal CLI $TEMPORAL_CLI_VERSION from the Go module proxy (a few minutes, once)"
  GOBIN="$TOOLS/bin" GOFLAGS="-trimpath" go install "github.com/temporalio/cli/cmd/temporal@$TEMPORAL_CLI_VERSION"
  echo "$TEMPORAL_CLI_VERSION" > "$TOOLS/bin/.temporal-version"
fi

POM="$ROOT/tools/test-server/pom.xml"
STAMP="$TOOLS/test-server/.pom.sha256"
if [ ! -f "$STAMP" ] || [ "$(sha256sum "$POM" | cut -d' ' -f1)" != "$(cat "$STAMP")" ]; then
  echo "[setup] fetching Temporal's time-skipping test server from Maven Central"
  rm -rf "$TOOLS/test-server/lib"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$TOOLS/test-server/lib"
  sha256sum "$POM" | cut -d' ' -f1 > "$STAMP"
fi
