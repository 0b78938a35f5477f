#!/usr/bin/env bash
# Refresh the vendored front-end libraries from the npm registry at the pinned versions.
# Run: make vendor   (then commit frontend/vendor). The page loads nothing from a CDN.
set -euo pipefail
CHARTJS=4.6.1
ADAPTER=3.0.0   # chartjs-adapter-date-fns; its .bundle build includes date-fns (MIT)
FINANCIAL=0.2.1 # chartjs-chart-financial: candlestick and OHLC chart types

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "chart.js@$CHARTJS" "chartjs-adapter-date-fns@$ADAPTER" "chartjs-chart-financial@$FINANCIAL" >/dev/null
mkdir chartjs adapter financial
tar -xzf "chart.js-$CHARTJS.tgz" -C chartjs
tar -xzf "chartjs-adapter-date-fns-$ADAPTER.tgz" -C adapter
tar -xzf "chartjs-chart-financial-$FINANCIAL.tgz" -C financial
cp chartjs/package/dist/chart.umd.min.js "$here/chart.umd.min.js"
cp chartjs/package/LICENSE.md "$here/LICENSE.chartjs.md"
cp adapter/package/dist/chartjs-adapter-date-fns.bundle.min.js "$here/chartjs-adapter-date-fns.bundle.min.js"
cp adapter/package/LICENSE.md "$here/LICENSE.chartjs-adapter-date-fns.md"
cp financial/package/dist/chartjs-chart-financial.min.js "$here/chartjs-chart-financial.min.js"
cp financial/package/LICENSE.md "$here/LICENSE.chartjs-chart-financial.md"
printf 'chart.js %s\nchartjs-adapter-date-fns %s\nchartjs-chart-financial %s\n' "$CHARTJS" "$ADAPTER" "$FINANCIAL" > "$here/VERSIONS"
echo "vendored chart.js $CHARTJS, chartjs-adapter-date-fns $ADAPTER and chartjs-chart-financial $FINANCIAL into $here"
