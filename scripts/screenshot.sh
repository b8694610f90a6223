#!/usr/bin/env bash
# Looks at a report page as a person would: renders PAGE in headless Chromium at 1280 and
# 390 pixels wide and saves OUT_PREFIX-1280.png and OUT_PREFIX-390.png.
#
#   scripts/screenshot.sh PAGE OUT_PREFIX [HEIGHT]
#
# HEIGHT (default 2400) is the height of the window, so of the picture. Set
# FORKDRIFT_COLOR_SCHEME=dark to render the dark scheme.
# A demo page: FORKDRIFT_REPORT_DEMO=/tmp/forkdrift-report-demo \
#   cargo test --test it report::write_demo_page -- --ignored
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 PAGE OUT_PREFIX [HEIGHT]" >&2
  exit 2
fi
page=$(realpath "$1")
prefix=$(realpath -m "$2")
height=${3:-2400}
if [ ! -f "$page" ]; then
  echo "error: no page at $1" >&2
  exit 2
fi
browser=""
for candidate in chromium chromium-browser google-chrome; do
  if command -v "$candidate" >/dev/null 2>&1; then
    browser=$candidate
    break
  fi
done
if [ -z "$browser" ]; then
  echo "error: no Chromium found" >&2
  echo "help: on Debian or Ubuntu: sudo apt-get update && sudo apt-get install -y chromium" >&2
  exit 2
fi
flags=()
if [ "${FORKDRIFT_COLOR_SCHEME:-light}" = dark ]; then
  flags+=(--force-dark-mode --blink-settings=preferredColorScheme=0)
else
  flags+=(--blink-settings=preferredColorScheme=1)
fi
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$prefix")"
for width in 1280 390; do
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --user-data-dir="$profile" --no-first-run --disable-extensions \
    "${flags[@]}" \
    --window-size="$width,$height" --screenshot="$prefix-$width.png" \
    "file://$page" 2>/dev/null
  echo "$prefix-$width.png"
done
