#!/usr/bin/env bash
# Builds the phonesignals Grafana data source into grafana/dist (or $DIST):
#   gpx_phonesignals_linux_amd64   the backend (static, stripped)
#   plugin.json, module.js, img/   what Grafana loads
# Mount that directory as /var/lib/grafana/plugins/phonesignals and set
# GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS=phonesignals-phonesignals-datasource.
# GOOS/GOARCH select another platform (the binary name follows them).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dist=${DIST:-$here/dist}
goos=${GOOS:-linux}
goarch=${GOARCH:-amd64}
exe=gpx_phonesignals_${goos}_${goarch}
[ "$goos" = windows ] && exe+=.exe

mkdir -p "$dist/img"
# The SDK's own build uses the arrow_json_stdlib tag and a static binary.
(cd "$here/.." && CGO_ENABLED=0 GOOS=$goos GOARCH=$goarch \
  go build -tags arrow_json_stdlib -ldflags '-s -w' -o "$dist/$exe" ./grafana/pkg)
cp "$here/plugin.json" "$dist/plugin.json"
cp "$here/src/module.js" "$dist/module.js"
cp "$here/src/img/logo.svg" "$dist/img/logo.svg"
echo "built $dist/$exe"
