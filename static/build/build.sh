#!/usr/bin/env bash
# Rebuilds the vendored front-end files in static/ui/vendor/ from the npm registry.
# The outputs are committed: `make run` and the tests never need node or npm.
# Run from anywhere: bash static/build/build.sh   (needs node 18+ and npm)
set -euo pipefail
cd "$(dirname "$0")"
npm install --no-audit --no-fund --silent
out=../ui/vendor
mkdir -p "$out"
npx esbuild codemirror-entry.js --bundle --minify --format=iife --global-name=CM \
  --legal-comments=eof --outfile="$out/codemirror.js"
npx esbuild x6-entry.js --bundle --minify --format=iife --global-name=X6 \
  --legal-comments=eof --outfile="$out/x6.js"
cp node_modules/uplot/dist/uPlot.iife.min.js "$out/uplot.js"
cp node_modules/uplot/dist/uPlot.min.css "$out/uplot.css"
cp node_modules/uplot/LICENSE "$out/uplot.LICENSE"
cp node_modules/codemirror/LICENSE "$out/codemirror.LICENSE"
cp node_modules/@antv/x6/LICENSE "$out/x6.LICENSE"
cp node_modules/@dagrejs/dagre/LICENSE "$out/dagre.LICENSE"
rm -rf node_modules
echo "built: $(ls "$out")"
