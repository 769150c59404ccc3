#!/usr/bin/env bash
# Builds the phonesignals Grafana data source into grafana/dist (or $DIST).
#
#   bash grafana/build.sh
#     the production build: the frontend (npm ci when the lockfile changed,
#     then webpack: module.js, plugin.json, img/, README, CHANGELOG,
#     dashboards/), and the backend for every platform Grafana runs on
#     (gpx_phonesignals_{linux,darwin}_{amd64,arm64}, linux_arm,
#     windows_amd64.exe).
#   GOOS=linux GOARCH=arm64 bash grafana/build.sh
#     the backend of one platform plus plugin.json, img/ and dashboards/,
#     without node (the Go tests and the Dockerfile's plugin stage; the
#     Dockerfile builds the frontend in its own stage).
#
# Mount the result as /var/lib/grafana/plugins/phonesignals and set
# GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=phonesignals-phonesignals-datasource.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dist=${DIST:-$here/dist}
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)

backend() { # GOOS GOARCH
  local exe=gpx_phonesignals_$1_$2
  [ "$1" = windows ] && exe+=.exe
  # The SDK's own build uses the arrow_json_stdlib tag and a static binary.
  (cd "$here/.." && CGO_ENABLED=0 GOOS=$1 GOARCH=$2 \
    go build -trimpath -tags arrow_json_stdlib -ldflags '-s -w' -o "$dist/$exe" ./grafana/pkg)
  echo "built $dist/$exe"
}

static() { # what Grafana loads besides module.js, for backend-only builds
  mkdir -p "$dist/img" "$dist/dashboards"
  cp "$here/src/plugin.json" "$dist/plugin.json"
  cp "$here/src/img/logo.svg" "$dist/img/logo.svg"
  cp "$here"/dashboards/*.json "$dist/dashboards/"
}

if [ -n "${GOOS:-}${GOARCH:-}" ]; then
  static
  backend "${GOOS:-linux}" "${GOARCH:-amd64}"
  exit 0
fi

bash "$here/npm-ci.sh"
(cd "$here" && npm run --silent build)
if [ "$dist" != "$here/dist" ]; then
  cp -r "$here/dist/." "$dist/"
fi
for p in linux/amd64 linux/arm64 linux/arm darwin/amd64 darwin/arm64 windows/amd64; do
  backend "${p%/*}" "${p#*/}"
done
for f in module.js plugin.json dashboards/phonesignals-team.json; do
  [ -s "$dist/$f" ] || { echo "build.sh: $dist/$f is missing" >&2; exit 1; }
done
echo "built the phonesignals plugin into $dist"
