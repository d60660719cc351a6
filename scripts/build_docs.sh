#!/usr/bin/env bash
# Build the documentation (Sphinx, pydata-sphinx-theme, numpydoc, sphinx-gallery,
# offline MathJax, local intersphinx inventories) in nitpicky mode with warnings
# as errors.  CI calls this; so can you:
#
#   bash scripts/build_docs.sh            # HTML in docs/_build/html
#   PYTHON=python3 bash scripts/build_docs.sh
#   bash scripts/check_docs_browser.sh    # then look at the pages in Chromium
#
# Needs the docs extra: pip install -e ".[docs]"
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PYTHON" ] && ! command -v "$PYTHON" >/dev/null 2>&1; then
  PYTHON=python3
fi
if ! "$PYTHON" -c "import sphinx, pydata_sphinx_theme, numpydoc, sphinx_gallery, sphinx_copybutton, myst_parser, importlib; importlib.import_module('sphinx-mathjax-offline')" 2>/dev/null; then
  echo "docs: Sphinx or one of its extensions is missing; install them with: $PYTHON -m pip install -e '.[docs]'" >&2
  exit 1
fi
# Document this checkout, whatever couponbound the interpreter has installed.
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export MPLBACKEND=Agg

# The local intersphinx inventories must be the ones the script writes.
"$PYTHON" scripts/make_intersphinx.py --check

# The examples on the pages (every ``>>>`` block of every page) are doctests:
# run them first (needs pytest).
if "$PYTHON" -c "import pytest" 2>/dev/null; then
  "$PYTHON" -m pytest -q -p no:cacheprovider -o addopts="" \
    -o doctest_optionflags="NORMALIZE_WHITESPACE ELLIPSIS NUMBER" \
    --doctest-glob="*.rst" --doctest-glob="*.md" docs/*.rst docs/*.md docs/api/*.rst
else
  echo "docs: pytest not installed, page examples not run" >&2
fi
# A clean build every time: stale gallery output can hide an error.
rm -rf docs/_build docs/auto_examples docs/api/generated
# -n: every cross-reference must resolve; -W: any warning fails the build.
"$PYTHON" -m sphinx -n -W --keep-going -b html -q docs docs/_build/html

# The gallery publishes what its scripts print: no warning may be among it
# (a warning there is a bug in the package or the script, not noise).
if grep -l -E "\.py:[0-9]+: [A-Za-z]*Warning:" docs/auto_examples/*.rst >/dev/null 2>&1; then
  echo "docs: the gallery output shows warnings:" >&2
  grep -n -E "\.py:[0-9]+: [A-Za-z]*Warning:" docs/auto_examples/*.rst >&2
  exit 1
fi
echo "docs: built docs/_build/html/index.html"
