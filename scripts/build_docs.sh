#!/usr/bin/env bash
# Build the documentation (Sphinx, pydata-sphinx-theme, numpydoc, sphinx-gallery)
# with warnings as errors.  CI calls this; so can you:
#
#   bash scripts/build_docs.sh            # HTML in docs/_build/html
#   PYTHON=python3 bash scripts/build_docs.sh
#
# Needs the docs extra: pip install -e ".[docs]"
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PYTHON" ] && ! command -v "$PYTHON" >/dev/null 2>&1; then
  PYTHON=python3
fi
if ! "$PYTHON" -c "import sphinx, pydata_sphinx_theme, numpydoc, sphinx_gallery" 2>/dev/null; then
  echo "docs: Sphinx and its extensions are missing; install them with: $PYTHON -m pip install -e '.[docs]'" >&2
  exit 1
fi
# The examples on the pages are doctests: run them first (needs pytest).
if "$PYTHON" -c "import pytest" 2>/dev/null; then
  MPLBACKEND=Agg "$PYTHON" -m pytest -q -p no:cacheprovider -o addopts="" \
    -o doctest_optionflags="NORMALIZE_WHITESPACE ELLIPSIS NUMBER" \
    --doctest-glob="*.rst" docs/index.rst docs/quickstart.rst docs/paper.rst
else
  echo "docs: pytest not installed, page examples not run" >&2
fi
# A clean build every time: stale gallery output can hide an error.
rm -rf docs/_build docs/auto_examples
MPLBACKEND=Agg "$PYTHON" -m sphinx -W --keep-going -b html -q docs docs/_build/html
echo "docs: built docs/_build/html/index.html"
