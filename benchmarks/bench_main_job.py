"""Time the main job (bare ``couponbound``) and its parts, interleaved.

    python benchmarks/bench_main_job.py [--baseline DIR] [--repeats N]

Each repeat runs, in fresh interpreters one after the other, the main job of
this checkout and (with ``--baseline``) of another copy of the package (a
directory holding a ``couponbound/`` folder, e.g. ``git archive <commit>
couponbound | tar -x -C DIR``), and reports medians of wall and CPU time.  It
also splits one in-process run of this checkout into numbers (the printed
table and Table 3) and figures (drawing and saving), so the share spent on
layout and file writing is visible.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUN = """
import sys, time, resource
sys.path.insert(0, {path!r})
t0 = time.perf_counter()
from couponbound.cli import main
main(["-q", "--out", {out!r}])
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print("RESULT", wall, ru.ru_utime + ru.ru_stime, file=sys.stderr)
"""

SPLIT = """
import sys, time
sys.path.insert(0, {path!r})
import matplotlib
t0 = time.perf_counter()
from couponbound.paper.summary import dataset_table, render_summary
from couponbound.paper.tables import coverage_table
from couponbound.paper.datasets import TABLE_DATASETS
rows = dataset_table(); render_summary(rows, "text"); coverage_table(TABLE_DATASETS)
t1 = time.perf_counter()
from couponbound.paper.outputs import write_figures
write_figures({out!r})
t2 = time.perf_counter()
print("SPLIT", t1 - t0, t2 - t1, file=sys.stderr)
"""


def _run(code: str, tag: str) -> list[float]:
    env = dict(os.environ, MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    line = next(ln for ln in out.stderr.splitlines() if ln.startswith(tag))
    return [float(v) for v in line.split()[1:]]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline", help="directory holding another copy of couponbound/")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    versions = {"this checkout": str(ROOT)}
    if args.baseline:
        versions["baseline"] = str(Path(args.baseline).resolve())
    times: dict[str, list[list[float]]] = {k: [] for k in versions}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for name, path in versions.items():
                out = os.path.join(tmp, f"{r}-{name.replace(' ', '_')}")
                times[name].append(_run(RUN.format(path=path, out=out), "RESULT"))
        print(f"main job (bare `couponbound`), median of {args.repeats} interleaved runs:")
        for name, rows in times.items():
            wall = statistics.median(t[0] for t in rows)
            cpu = statistics.median(t[1] for t in rows)
            print(f"  {name:14s} wall {wall:6.2f} s   cpu {cpu:6.2f} s")
        if args.baseline:
            a = statistics.median(t[0] for t in times["baseline"])
            b = statistics.median(t[0] for t in times["this checkout"])
            print(f"  baseline / this checkout (wall): {a / b:.2f}x")
        splits = [_run(SPLIT.format(path=str(ROOT), out=os.path.join(tmp, f"s{r}")), "SPLIT")
                  for r in range(args.repeats)]
        nums = statistics.median(s[0] for s in splits)
        figs = statistics.median(s[1] for s in splits)
        print(f"this checkout, in process: numbers {nums:.2f} s, figures {figs:.2f} s "
              f"({100 * figs / (nums + figs):.0f} % in figures)")
        if args.baseline:
            splits = [_run(SPLIT.format(path=versions["baseline"], out=os.path.join(tmp, f"b{r}")),
                           "SPLIT") for r in range(args.repeats)]
            print(f"baseline, in process:      numbers {statistics.median(s[0] for s in splits):.2f} s, "
                  f"figures {statistics.median(s[1] for s in splits):.2f} s")


if __name__ == "__main__":
    main()
