#!/usr/bin/env bash
# Renders DIR/report.html (from `rally simulate --out DIR`) to DIR/report.png with headless
# Chromium, to look at the page as a reader sees it. Needs a `chromium` on PATH (Debian:
# `apt-get install chromium`); CI does not run this.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 DIR   (renders DIR/report.html to DIR/report.png)" >&2
  exit 2
fi
dir=$(cd "$1" && pwd)
page="$dir/report.html"
[[ -f "$page" ]] || { echo "$0: no $page" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n "$browser" ]] || { echo "$0: chromium not found (apt-get install chromium)" >&2; exit 2; }

# --no-sandbox: root in a container has no user namespace for the sandbox. A fresh profile
# directory, so that a running browser's profile is neither used nor locked.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$profile" --window-size="${WINDOW_SIZE:-1280,2400}" \
  --screenshot="$dir/report.png" "file://$page" 2>/dev/null
echo "$dir/report.png"
