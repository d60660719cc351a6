#!/usr/bin/env bash
# Build couponbound as it would be released and use it as a user would.
# CI (.ci/run) calls this after the tests; so can you:
#
#   bash scripts/check_package.sh                  # uses .venv/bin/python
#   PYTHON=python3 bash scripts/check_package.sh
#
# Needs the dev extra (build, twine): pip install -e ".[dev]".  Steps:
#   1. build the sdist and, from it, the wheel into dist/ (python -m build);
#   2. twine check --strict;
#   3. the wheel holds only the package, couponbound/py.typed and the license,
#      and its METADATA has License-Expression / License-File and the version
#      of couponbound/__init__.py; the sdist holds LICENSE and CITATION.cff;
#   4. a fresh virtual environment (in a temporary folder) installs the wheel,
#      its dependencies coming from the package index;
#   5. there, outside the clone: `python -m couponbound --version`, the
#      `couponbound` command's main job, a light `import couponbound`, the
#      Lightning extra's install hint, and mypy on a user file that imports
#      couponbound (no "missing library stubs or py.typed marker").
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PYTHON" ] && ! command -v "$PYTHON" >/dev/null 2>&1; then
  PYTHON=python3
fi
if ! "$PYTHON" -c "import build, twine" 2>/dev/null; then
  echo "package: build and twine are missing; install them with: $PYTHON -m pip install -e '.[dev]'" >&2
  exit 1
fi

START=$SECONDS
say() { echo "package: $* [$((SECONDS - START)) s]"; }
fail() { echo "package: FAILED: $*" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/couponbound-package.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
# Run a command quietly; on failure show its output and stop.
quiet() {
  local log="$WORK/step.log"
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "$*"
  fi
}

VERSION=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' couponbound/__init__.py)
[ -n "$VERSION" ] || fail "no __version__ = \"...\" line in couponbound/__init__.py"

# --- 1. build ----------------------------------------------------------------
mkdir -p dist
rm -f dist/couponbound-*.whl dist/couponbound-*.tar.gz
quiet "$PYTHON" -m build --outdir dist .
WHEEL="dist/couponbound-$VERSION-py3-none-any.whl"
SDIST="dist/couponbound-$VERSION.tar.gz"
[ -f "$WHEEL" ] || fail "expected $WHEEL; dist/ holds: $(ls dist)"
[ -f "$SDIST" ] || fail "expected $SDIST; dist/ holds: $(ls dist)"
say "built $SDIST and $WHEEL"

# --- 2. twine check ------------------------------------------------------------
quiet "$PYTHON" -m twine check --strict "$SDIST" "$WHEEL"
say "twine check --strict passed"

# --- 3. what the archives hold -------------------------------------------------
"$PYTHON" - "$WHEEL" "$SDIST" "$VERSION" <<'EOF'
import sys
import tarfile
import zipfile

wheel, sdist, version = sys.argv[1:]
info = f"couponbound-{version}.dist-info/"
problems = []
with zipfile.ZipFile(wheel) as zf:
    names = zf.namelist()
    metadata = zf.read(info + "METADATA").decode()
for need in ("couponbound/__init__.py", "couponbound/__main__.py", "couponbound/py.typed",
             info + "licenses/LICENSE"):
    if need not in names:
        problems.append(f"wheel lacks {need}")
stray = [n for n in names if not (n.startswith("couponbound/") or n.startswith(info))]
if stray:
    problems.append(f"wheel holds files outside the package: {stray}")
headers = metadata.split("\n\n", 1)[0].splitlines()
for need in (f"Version: {version}", "License-Expression: BSD-3-Clause", "License-File: LICENSE"):
    if need not in headers:
        problems.append(f"wheel METADATA lacks the line {need!r}")
for prefix in ("Project-URL: Documentation,", "Project-URL: Source,", "Project-URL: Issues,",
               "Project-URL: Changelog,", "Classifier: Typing :: Typed", "Keywords:"):
    if not any(h.startswith(prefix) for h in headers):
        problems.append(f"wheel METADATA has no {prefix!r} line")
with tarfile.open(sdist) as tf:
    members = set(tf.getnames())
for need in ("LICENSE", "CITATION.cff", "README.md", "pyproject.toml", "PKG-INFO",
             "couponbound/py.typed"):
    if f"couponbound-{version}/{need}" not in members:
        problems.append(f"sdist lacks {need}")
if problems:
    sys.exit("package: FAILED:\n  " + "\n  ".join(problems))
print(f"package: wheel has {len(names)} files, py.typed, LICENSE, License-Expression; sdist complete")
EOF

# --- 4. a fresh environment from the wheel -----------------------------------
VENV="$WORK/venv"
quiet "$PYTHON" -m venv "$VENV"
say "fresh venv; installing the wheel and its dependencies"
quiet "$VENV/bin/python" -m pip install "$ROOT/$WHEEL"
say "installed $(basename "$WHEEL")"
quiet "$VENV/bin/python" -m pip install mypy
say "installed mypy into the fresh venv"

# --- 5. use it as a user would, outside the clone ----------------------------
RUN="$WORK/run"
mkdir -p "$RUN"
cd "$RUN"
unset PYTHONPATH
where=$("$VENV/bin/python" -c "import couponbound; print(couponbound.__file__)")
case "$where" in
  "$VENV"/*) ;;
  *) fail "import couponbound found $where, not the installed wheel" ;;
esac

out=$("$VENV/bin/python" -m couponbound --version)
[ "$out" = "couponbound $VERSION" ] || fail "python -m couponbound --version printed '$out'"
out=$("$VENV/bin/couponbound" --version)
[ "$out" = "couponbound $VERSION" ] || fail "couponbound --version printed '$out'"
say "python -m couponbound --version and couponbound --version: $out"

quiet "$VENV/bin/couponbound"
n_pdf=$(find couponbound-output -name '*.pdf' | wc -l)
n_png=$(find couponbound-output -name '*.png' | wc -l)
n_tab=$(find couponbound-output \( -name '*.md' -o -name '*.tex' -o -name '*.csv' \) | wc -l)
if [ "$n_pdf" -lt 1 ] || [ "$n_png" -lt 1 ] || [ "$n_tab" -lt 1 ]; then
  fail "the main job wrote $n_pdf PDF, $n_png PNG and $n_tab table files into couponbound-output/"
fi
say "couponbound (the main job) wrote $n_pdf PDF, $n_png PNG and $n_tab table files"

"$VENV/bin/python" - <<'EOF'
import sys

import couponbound

heavy = sorted({"matplotlib", "sympy", "torch", "lightning", "jax", "hypothesis"} & set(sys.modules))
if heavy:
    sys.exit(f"package: FAILED: import couponbound imported {heavy}")
try:
    from couponbound.training import lightning

    lightning.BoundMonitorCallback  # noqa: B018
except ImportError as exc:
    if "pip install" not in str(exc):
        sys.exit(f"package: FAILED: without Lightning the error says no install command: {exc}")
else:
    sys.exit("package: FAILED: BoundMonitorCallback resolved without Lightning installed")
print("package: import couponbound is light; the Lightning extra's error says what to install")
EOF

# A user's file and a user's mypy configuration (no ignore_missing_imports).
cat > user.py <<'EOF'
import numpy as np
from numpy.typing import NDArray

import couponbound
from couponbound import Prior, coverage_prob

# a scalar K gives a float and an array K an ndarray, statically too (@overload)
x: float = coverage_prob(31, Prior.uniform(10))
z: NDArray[np.float64] = coverage_prob([31, 63], 10)
y: float = float(coverage_prob(31, 10))
reveal_type(couponbound.coverage_prob)
EOF
printf '[mypy]\n' > mypy.ini
set +e
out=$("$VENV/bin/python" -m mypy --config-file mypy.ini --no-incremental user.py 2>&1)
status=$?
set -e
echo "$out" | sed 's/^/  mypy: /'
[ "$status" -eq 0 ] || fail "mypy on a user file exited $status"
if echo "$out" | grep -q -e "py.typed" -e "library stubs"; then
  fail "mypy does not see couponbound's types"
fi
# one signature, or (since the @overloads: float for a scalar K) an Overload of them
echo "$out" | grep -q -e 'Revealed type is "def' -e 'Revealed type is "Overload(def' \
  || fail "mypy did not read coverage_prob's signature"
say "mypy on a user file importing couponbound passed"
say "all package checks passed"
