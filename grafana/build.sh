#!/usr/bin/env bash
# Builds the phonesignals Grafana data source into grafana/dist (or $DIST).
#
#   bash grafana/build.sh            (make grafana)
#     the frontend (npm ci when the lockfile changed, then webpack:
#     module.js and its source map, plugin.json, img/, README, CHANGELOG,
#     LICENSE, dashboards/) and the backend for this machine only
#     (gpx_phonesignals_<go env GOOS>_<go env GOARCH>).
#   bash grafana/build.sh --all      (make grafana-zip)
#     the same with the backend for every platform Grafana runs on
#     (gpx_phonesignals_{linux,darwin}_{amd64,arm64}, linux_arm,
#     windows_amd64.exe): what a release archive carries.
#   GOOS=linux GOARCH=arm64 bash grafana/build.sh
#     the backend of one platform plus plugin.json, img/, LICENSE and
#     dashboards/, without node (the Go tests and the Dockerfile's plugin
#     stage; the Dockerfile builds the frontend in its own stage).
#
# Every build writes plugin.json with package.json's version and the
# build's date (create-plugin's %VERSION% and %TODAY%; SOURCE_DATE_EPOCH
# fixes the date) and the Go SDK's go_plugin_build_manifest.
#
# Mount the result as /var/lib/grafana/plugins/phonesignals and set
# GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=phonesignals-phonesignals-datasource.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
dist=${DIST:-$here/dist}
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)

all=
case "${1:-}" in
  --all) all=1 ;;
  "") ;;
  *) echo "usage: bash grafana/build.sh [--all]   (or GOOS=.. GOARCH=.. bash grafana/build.sh)" >&2; exit 2 ;;
esac

# The release tool (grafana/release), built for this machine whatever
# GOOS/GOARCH the backend is built for.
tooldir=$(mktemp -d)
trap 'rm -rf "$tooldir"' EXIT
(cd "$root" && env -u GOOS -u GOARCH CGO_ENABLED=0 go build -o "$tooldir/release" ./grafana/release)
release() { (cd "$root" && "$tooldir/release" "$@"); }
version=$(release version -package grafana/package.json)

backend() { # GOOS GOARCH
  local exe=gpx_phonesignals_$1_$2
  [ "$1" = windows ] && exe+=.exe
  # As the SDK's build (build/common.go): the arrow_json_stdlib tag, a
  # static stripped binary, and the SDK's build info (plugin id, version,
  # build time) that the backend reports to Grafana.
  local info
  info=$(printf '{"time":%s000,"pluginID":"phonesignals-phonesignals-datasource","version":"%s"}' "$(date +%s)" "$version")
  (cd "$root" && CGO_ENABLED=0 GOOS=$1 GOARCH=$2 \
    go build -trimpath -tags arrow_json_stdlib \
      -ldflags "-s -w -X 'github.com/grafana/grafana-plugin-sdk-go/build/buildinfo.buildInfoJSON=$info'" \
      -o "$dist/$exe" ./grafana/pkg)
  chmod 0755 "$dist/$exe"
  echo "built $dist/$exe"
}

metadata() { # plugin.json rendered, the manifest, and the files Grafana loads besides module.js
  mkdir -p "$dist/img" "$dist/dashboards"
  release plugin-json -src grafana/src/plugin.json -package grafana/package.json -out "$dist/plugin.json"
  release manifest -root . -out "$dist/go_plugin_build_manifest"
  cp "$here/src/img/logo.svg" "$dist/img/logo.svg"
  cp "$here"/dashboards/*.json "$dist/dashboards/"
  cp "$root/LICENSE" "$dist/LICENSE"
}

if [ -n "${GOOS:-}${GOARCH:-}" ]; then
  backend "${GOOS:-linux}" "${GOARCH:-amd64}"
  metadata
  exit 0
fi

bash "$here/npm-ci.sh"
(cd "$here" && npm run --silent build)
if [ "$dist" != "$here/dist" ]; then
  cp -r "$here/dist/." "$dist/"
fi
rm -f "$dist"/gpx_phonesignals_* # dist holds exactly the binaries built now (no stale platform)
if [ -n "$all" ]; then
  for p in linux/amd64 linux/arm64 linux/arm darwin/amd64 darwin/arm64 windows/amd64; do
    backend "${p%/*}" "${p#*/}"
  done
else
  backend "$(env -u GOOS -u GOARCH go env GOOS)" "$(env -u GOOS -u GOARCH go env GOARCH)"
fi
metadata
for f in module.js module.js.map plugin.json LICENSE README.md CHANGELOG.md go_plugin_build_manifest dashboards/phonesignals-team.json; do
  [ -s "$dist/$f" ] || { echo "build.sh: $dist/$f is missing" >&2; exit 1; }
done
echo "built the phonesignals plugin into $dist"
