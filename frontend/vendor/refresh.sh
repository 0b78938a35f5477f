#!/usr/bin/env bash
# Refresh the vendored front-end libraries from the npm registry at the pinned versions.
# Run: make vendor   (then commit frontend/vendor). The page loads nothing from a CDN.
set -euo pipefail
CHARTJS=4.6.1
ADAPTER=3.0.0   # chartjs-adapter-date-fns; its .bundle build includes date-fns (MIT)
FINANCIAL=0.2.1 # chartjs-chart-financial: candlestick and OHLC chart types
SORTABLE=1.15.7 # sortablejs: drag (mouse and touch) to reorder the cards
ZOOM=2.2.0      # chartjs-plugin-zoom: wheel, pinch and drag to zoom and pan the chart
HAMMER=2.0.8    # hammerjs: the touch gestures (pinch, pan) chartjs-plugin-zoom listens to
ANNOTATION=3.1.0 # chartjs-plugin-annotation: the alerts' lines on the chart

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "chart.js@$CHARTJS" "chartjs-adapter-date-fns@$ADAPTER" "chartjs-chart-financial@$FINANCIAL" \
  "sortablejs@$SORTABLE" "chartjs-plugin-zoom@$ZOOM" "hammerjs@$HAMMER" "chartjs-plugin-annotation@$ANNOTATION" >/dev/null
mkdir chartjs adapter financial sortable zoom hammer annotation
tar -xzf "chart.js-$CHARTJS.tgz" -C chartjs
tar -xzf "chartjs-adapter-date-fns-$ADAPTER.tgz" -C adapter
tar -xzf "chartjs-chart-financial-$FINANCIAL.tgz" -C financial
tar -xzf "sortablejs-$SORTABLE.tgz" -C sortable
tar -xzf "chartjs-plugin-zoom-$ZOOM.tgz" -C zoom
tar -xzf "hammerjs-$HAMMER.tgz" -C hammer
tar -xzf "chartjs-plugin-annotation-$ANNOTATION.tgz" -C annotation
cp chartjs/package/dist/chart.umd.min.js "$here/chart.umd.min.js"
cp chartjs/package/LICENSE.md "$here/LICENSE.chartjs.md"
cp adapter/package/dist/chartjs-adapter-date-fns.bundle.min.js "$here/chartjs-adapter-date-fns.bundle.min.js"
cp adapter/package/LICENSE.md "$here/LICENSE.chartjs-adapter-date-fns.md"
cp financial/package/dist/chartjs-chart-financial.min.js "$here/chartjs-chart-financial.min.js"
cp financial/package/LICENSE.md "$here/LICENSE.chartjs-chart-financial.md"
cp sortable/package/Sortable.min.js "$here/Sortable.min.js"
cp sortable/package/LICENSE "$here/LICENSE.sortablejs.md"
cp zoom/package/dist/chartjs-plugin-zoom.min.js "$here/chartjs-plugin-zoom.min.js"
cp zoom/package/LICENSE.md "$here/LICENSE.chartjs-plugin-zoom.md"
cp hammer/package/hammer.min.js "$here/hammer.min.js"
cp hammer/package/LICENSE.md "$here/LICENSE.hammerjs.md"
cp annotation/package/dist/chartjs-plugin-annotation.min.js "$here/chartjs-plugin-annotation.min.js"
cp annotation/package/LICENSE.md "$here/LICENSE.chartjs-plugin-annotation.md"
printf '%s %s\n' chart.js "$CHARTJS" chartjs-adapter-date-fns "$ADAPTER" chartjs-chart-financial "$FINANCIAL" \
  sortablejs "$SORTABLE" chartjs-plugin-zoom "$ZOOM" hammerjs "$HAMMER" chartjs-plugin-annotation "$ANNOTATION" \
  > "$here/VERSIONS"
echo "vendored $(tr '\n' ' ' < "$here/VERSIONS")into $here"
