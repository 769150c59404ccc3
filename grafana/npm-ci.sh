#!/usr/bin/env bash
# Installs the frontend's npm packages exactly as package-lock.json pins
# them, only when the lockfile changed since the last install (a stamp in
# node_modules), from npm's cache when it can, retrying a failed download.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"
command -v npm >/dev/null 2>&1 || { echo "npm-ci.sh: npm is not installed: apt-get install npm (CI's .ci/run does)" >&2; exit 1; }
want=$( (cat package-lock.json; node --version) | sha256sum | cut -d' ' -f1)
stamp=node_modules/.phonesignals-lock-sha256
# Some npm packages ship Go code (flatted): a go.mod at the top of
# node_modules keeps it out of the project's `go build/vet/test ./...`.
fence() { printf 'module phonesignals.invalid/node_modules\n' > node_modules/go.mod; }
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  fence
  exit 0
fi
for attempt in 1 2 3; do
  if npm ci --prefer-offline --no-audit --no-fund --loglevel=error; then
    fence
    echo "$want" > "$stamp"
    exit 0
  fi
  echo "npm-ci.sh: npm ci failed (attempt $attempt of 3); retrying" >&2
  sleep $((attempt * 5))
done
echo "npm-ci.sh: npm ci failed 3 times: check the npm registry (npm config get registry) and the network" >&2
exit 1
