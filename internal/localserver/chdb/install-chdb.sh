#!/usr/bin/env bash
# Installs libchdb (in-process ClickHouse 26.7) for the tests that prove the
# project's SQL also runs on current ClickHouse. The library ships inside the
# npm package @chdb/lib-linux-x64-gnu, so this needs only npm and the npm
# registry. Idempotent: does nothing when the library is already there.
#
# Usage: internal/localserver/chdb/install-chdb.sh        (from anywhere inside the repository)
# The Go side (internal/localserver/chdb.LibPath) looks for the library at the path
# printed at the end, or wherever PHONESIGNALS_LIBCHDB points.
set -euo pipefail

PKG="@chdb/lib-linux-x64-gnu"
VERSION="26.7.3-stable.1"

# The repository root is the nearest directory up from this script that
# holds go.mod (not a fixed number of ../, so the script may move).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
while [ ! -f "$ROOT/go.mod" ] && [ "$ROOT" != / ]; do ROOT="$(dirname "$ROOT")"; done
PREFIX="$ROOT/.phonesignals/tools/chdb"
LIB="$PREFIX/node_modules/$PKG/libchdb.so"

if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
	echo "install-chdb: $PKG only exists for Linux x86_64 (this is $(uname -s)-$(uname -m)); set PHONESIGNALS_LIBCHDB to a libchdb.so built for this machine, or run the tests with PHONESIGNALS_SKIP_CHDB=1" >&2
	exit 1
fi

if [[ -s "$LIB" ]]; then
	echo "install-chdb: $LIB already installed"
	exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
	echo "install-chdb: npm is missing; install it first (as root: apt-get update && apt-get install -y npm)" >&2
	exit 1
fi

mkdir -p "$PREFIX"
echo "install-chdb: installing $PKG@$VERSION (about 560 MB) into $PREFIX"
# npm may warn about "nodedir" on Debian's npm; the warning is harmless.
npm install --no-save --no-audit --no-fund --prefix "$PREFIX" "$PKG@$VERSION"

if [[ ! -s "$LIB" ]]; then
	echo "install-chdb: npm finished but $LIB is missing" >&2
	exit 1
fi
echo "install-chdb: installed $LIB"
