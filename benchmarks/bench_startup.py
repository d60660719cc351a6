"""Start-up time of ``import couponbound`` and of the command's ``--version``/``--help``.

Run ``python benchmarks/bench_startup.py`` (``--repeat N``, default 15).  Each
case is a fresh interpreter started from this checkout (``python -c ...``),
the cases interleaved round by round so that a busy machine slows them alike.
For each case the best and the median wall time are printed, and the ratio of
each to the same statistic of ``python -c "import numpy"`` (the target of
issue 19: at most 1.3).  A bare ``python -c pass`` is printed too, the floor
no Python program can beat.

The informative rows below the targets show what the first use of the
numeric core costs (``from couponbound import coverage_prob`` and a first
call), against ``import numpy, scipy``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: (label, code, is a target) -- each run as ``python -c code`` from the repository root.
CASES: tuple[tuple[str, str, bool], ...] = (
    ("python -c pass", "pass", False),
    ("import numpy", "import numpy", False),
    ("import couponbound", "import couponbound", True),
    ("couponbound --version",
     "import sys; sys.argv = ['couponbound', '--version']\n"
     "from couponbound.cli import console_main\nsys.exit(console_main())", True),
    ("couponbound --help",
     "import sys; sys.argv = ['couponbound', '--help']\n"
     "from couponbound.cli import console_main\nsys.exit(console_main())", True),
    ("couponbound coverage --help",
     "import sys; sys.argv = ['couponbound', 'coverage', '--help']\n"
     "from couponbound.cli import console_main\nsys.exit(console_main())", True),
    ("import numpy, scipy", "import numpy, scipy", False),
    ("from couponbound import coverage_prob", "from couponbound import coverage_prob", False),
    ("coverage_prob(31, 10), first call",
     "from couponbound import coverage_prob; coverage_prob(31, 10)", False),
)


def run_once(code: str) -> float:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15, help="rounds (default 15)")
    args = parser.parse_args()
    for _, code, _ in CASES:  # warm the file cache and the byte-code caches once
        run_once(code)
    times: dict[str, list[float]] = {label: [] for label, _, _ in CASES}
    for _ in range(args.repeat):
        for label, code, _ in CASES:
            times[label].append(run_once(code))
    best_np = min(times["import numpy"])
    med_np = statistics.median(times["import numpy"])
    print(f"{'case':40s} {'best ms':>8s} {'median ms':>10s} {'best/numpy':>11s} "
          f"{'median/numpy':>13s}  target")
    for label, _, target in CASES:
        best = min(times[label])
        med = statistics.median(times[label])
        goal = ("<= 1.3: " + ("met" if best / best_np <= 1.3 else "NOT met")) if target else ""
        print(f"{label:40s} {best * 1e3:8.1f} {med * 1e3:10.1f} {best / best_np:11.2f} "
              f"{med / med_np:13.2f}  {goal}")
    print(f"\n{args.repeat} interleaved rounds of fresh interpreters ({sys.executable}).")


if __name__ == "__main__":
    main()
