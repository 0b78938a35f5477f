#!/usr/bin/env bash
# Refresh the vendored front-end libraries from the npm registry at the pinned versions.
# Run: make vendor   (then commit frontend/vendor). The page loads nothing from a CDN.
set -euo pipefail
CHARTJS=4.6.1
ADAPTER=3.0.0   # chartjs-adapter-date-fns; its .bundle build includes date-fns (MIT)
FINANCIAL=0.2.1 # chartjs-chart-financial: candlestick and OHLC chart types
SORTABLE=1.15.7 # sortablejs: drag (mouse and touch) to reorder the cards

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "chart.js@$CHARTJS" "chartjs-adapter-date-fns@$ADAPTER" "chartjs-chart-financial@$FINANCIAL" \
  "sortablejs@$SORTABLE" >/dev/null
mkdir chartjs adapter financial sortable
tar -xzf "chart.js-$CHARTJS.tgz" -C chartjs
tar -xzf "chartjs-adapter-date-fns-$ADAPTER.tgz" -C adapter
tar -xzf "chartjs-chart-financial-$FINANCIAL.tgz" -C financial
tar -xzf "sortablejs-$SORTABLE.tgz" -C sortable
cp chartjs/package/dist/chart.umd.min.js "$here/chart.umd.min.js"
cp chartjs/package/LICENSE.md "$here/LICENSE.chartjs.md"
cp adapter/package/dist/chartjs-adapter-date-fns.bundle.min.js "$here/chartjs-adapter-date-fns.bundle.min.js"
cp adapter/package/LICENSE.md "$here/LICENSE.chartjs-adapter-date-fns.md"
cp financial/package/dist/chartjs-chart-financial.min.js "$here/chartjs-chart-financial.min.js"
cp financial/package/LICENSE.md "$here/LICENSE.chartjs-chart-financial.md"
cp sortable/package/Sortable.min.js "$here/Sortable.min.js"
cp sortable/package/LICENSE "$here/LICENSE.sortablejs.md"
printf 'chart.js %s\nchartjs-adapter-date-fns %s\nchartjs-chart-financial %s\nsortablejs %s\n' \
  "$CHARTJS" "$ADAPTER" "$FINANCIAL" "$SORTABLE" > "$here/VERSIONS"
echo "vendored chart.js $CHARTJS, chartjs-adapter-date-fns $ADAPTER, chartjs-chart-financial $FINANCIAL and sortablejs $SORTABLE into $here"
