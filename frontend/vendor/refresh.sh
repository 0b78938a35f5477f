#!/usr/bin/env bash
# Refresh the vendored front-end libraries from the npm registry at the pinned versions.
# Run: make vendor   (then commit frontend/vendor). The page loads nothing from a CDN.
set -euo pipefail
CHARTJS=4.6.1
ADAPTER=3.0.0   # chartjs-adapter-date-fns; its .bundle build includes date-fns (MIT)

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "chart.js@$CHARTJS" "chartjs-adapter-date-fns@$ADAPTER" >/dev/null
mkdir chartjs adapter
tar -xzf "chart.js-$CHARTJS.tgz" -C chartjs
tar -xzf "chartjs-adapter-date-fns-$ADAPTER.tgz" -C adapter
cp chartjs/package/dist/chart.umd.min.js "$here/chart.umd.min.js"
cp chartjs/package/LICENSE.md "$here/LICENSE.chartjs.md"
cp adapter/package/dist/chartjs-adapter-date-fns.bundle.min.js "$here/chartjs-adapter-date-fns.bundle.min.js"
cp adapter/package/LICENSE.md "$here/LICENSE.chartjs-adapter-date-fns.md"
printf 'chart.js %s\nchartjs-adapter-date-fns %s\n' "$CHARTJS" "$ADAPTER" > "$here/VERSIONS"
echo "vendored chart.js $CHARTJS and chartjs-adapter-date-fns $ADAPTER into $here"
