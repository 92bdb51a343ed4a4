#!/usr/bin/env bash
# Regenerates the README's screenshots of the pages (docs/screenshots/*.png) with the
# browser tests themselves: the same headless Debian chromium (installed with apt when missing,
# with a small CJK font so that the Chinese is legible), the same data and the same moments the
# tests check (the dashboard drawn, the staff page showing a version conflict, GraphiQL after
# running the dashboard query, the console after making an account and a token, the yearly
# report of 2023).
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto sans cjk' || missing+=(fonts-wqy-microhei)
if (( ${#missing[@]} )); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
mkdir -p docs/screenshots
COVERAGE_API_SCREENSHOTS="$PWD/docs/screenshots" COVERAGE_API_BROWSER_TESTS=required \
  cargo test --test api browser:: -- --test-threads=1
# The console's test takes two; the README shows the first.
console="$(mktemp -d)"
COVERAGE_API_SCREENSHOTS="$console" COVERAGE_API_BROWSER_TESTS=required \
  cargo test --test api console:: -- --test-threads=1
cp "$console/console.png" docs/screenshots/console.png
# The report's test writes its PDF too; the README shows the page.
COVERAGE_API_SCREENSHOTS="$console" COVERAGE_API_BROWSER_TESTS=required \
  cargo test --test api report:: -- --test-threads=1
cp "$console/report.png" docs/screenshots/report.png
rm -rf "$console"
ls -l docs/screenshots
