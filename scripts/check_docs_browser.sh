#!/usr/bin/env bash
# Check the built documentation in a real headless browser (Chromium, driven
# by Playwright): raw TeX, broken images, horizontal overflow of the main
# column, a wrapping navbar, empty sidebars, duplicate tables of contents,
# requests outside the build and links to missing anchors.  Screenshots of
# every page (1280 px wide) go to docs/_build/screenshots/.
#
#   bash scripts/build_docs.sh && bash scripts/check_docs_browser.sh
#   PYTHON=python3 bash scripts/check_docs_browser.sh --pages 'api/*'
#
# Installs what is missing: Chromium from Debian's packages (needs root or
# sudo) and Playwright from PyPI into the interpreter's environment.  No
# browser is downloaded: Playwright drives /usr/bin/chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PYTHON" ] && ! command -v "$PYTHON" >/dev/null 2>&1; then
  PYTHON=python3
fi
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "docs-browser: installing chromium (apt-get)" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if ! "$PYTHON" -c "import playwright.sync_api" 2>/dev/null; then
  echo "docs-browser: installing playwright (pip)" >&2
  "$PYTHON" -m pip install -q "playwright>=1.40"
fi
if [ ! -f docs/_build/html/index.html ]; then
  echo "docs-browser: no built site; run bash scripts/build_docs.sh first" >&2
  exit 1
fi
exec "$PYTHON" scripts/check_docs_browser.py --chromium "$CHROMIUM" "$@"
