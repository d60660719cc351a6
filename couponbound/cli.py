"""The ``couponbound`` command.

Bare ``couponbound`` runs the main job: for the class counts of NS21's data
sets it prints the expected batch size ``E[K+1]`` (NS21 Table 3), the number
of negatives ``K`` needed for 50/90/99/99.9 % coverage, and the coverage
``upsilon_{K+1}`` at ``K + 1 = 256, 4096, 65536``.  ``--json`` and ``--csv``
print the same numbers for machines.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from .coupon import completion_time, coverage_prob, expected_draws, required_negatives

__all__ = ["DATASETS", "CONFIDENCES", "BATCH_SIZES", "DatasetRow", "dataset_table", "main"]

#: NS21's data sets by number of latent classes (uniform prior).
DATASETS: tuple[tuple[str, int], ...] = (
    ("binary", 2),
    ("AG News", 4),
    ("CIFAR-10", 10),
    ("CIFAR-100", 100),
    ("ImageNet-1k", 1000),
    ("Wiki-3029", 3029),
)
CONFIDENCES: tuple[float, ...] = (0.5, 0.9, 0.99, 0.999)
BATCH_SIZES: tuple[int, ...] = (256, 4096, 65536)


@dataclass(frozen=True)
class DatasetRow:
    """One row of the main job's table (uniform class prior)."""

    dataset: str
    classes: int
    expected_batch: float
    negatives_for: dict[str, int]
    coverage_at: dict[str, float]
    miss_at: dict[str, float]
    log10_miss_at: dict[str, float]

    def to_dict(self) -> dict[str, object]:
        """Flat dict: ``K_for_99`` for the K needed, ``upsilon_at_256`` for the coverage
        and ``miss_at_256`` for ``1 - upsilon`` (exact in the far tail, not rounded to 0)."""
        out: dict[str, object] = {
            "dataset": self.dataset,
            "classes": self.classes,
            "expected_batch": self.expected_batch,
        }
        out.update({f"K_for_{k}": v for k, v in self.negatives_for.items()})
        out.update({f"upsilon_at_{k}": v for k, v in self.coverage_at.items()})
        out.update({f"miss_at_{k}": v for k, v in self.miss_at.items()})
        out.update({f"log10_miss_at_{k}": v for k, v in self.log10_miss_at.items()})
        return out


def _pct(conf: float) -> str:
    return f"{conf * 100:g}"


def dataset_table(
    datasets: Sequence[tuple[str, int]] = DATASETS,
    confidences: Sequence[float] = CONFIDENCES,
    batch_sizes: Sequence[int] = BATCH_SIZES,
) -> list[DatasetRow]:
    """The numbers of the main job, one :class:`DatasetRow` per data set.

    Examples
    --------
    >>> row = dataset_table([("CIFAR-10", 10)], [0.99], [32])[0]
    >>> row.negatives_for, round(row.coverage_at["32"], 4)
    ({'99': 65}, 0.691)
    """
    rows = []
    for name, C in datasets:
        need = {_pct(q): required_negatives(C, confidence=q) for q in confidences}
        cov = {str(b): coverage_prob(b - 1, C) for b in batch_sizes}
        T = completion_time(C)
        miss = {str(b): T.sf(b) for b in batch_sizes}
        lmiss = {str(b): T.logsf(b) / math.log(10) for b in batch_sizes}
        rows.append(DatasetRow(name, C, expected_draws(C), need, cov, miss, lmiss))
    return rows


def _format_text(rows: list[DatasetRow]) -> str:
    confs = list(rows[0].negatives_for)
    sizes = list(rows[0].coverage_at)
    head = ["data set", "C", "E[K+1]"] + [f"K@{c}%" for c in confs] + [f"u(K+1={s})" for s in sizes]
    body = []
    for r in rows:
        cells = [r.dataset, str(r.classes), f"{r.expected_batch:.1f}"]
        cells += [str(v) for v in r.negatives_for.values()]
        cells += [_fmt_prob(v, m, lm) for v, m, lm in
                  zip(r.coverage_at.values(), r.miss_at.values(), r.log10_miss_at.values(), strict=True)]
        body.append(cells)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]

    def join(cells: list[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in pairs)

    lines = [join(head), "  ".join("-" * w for w in widths)] + [join(b) for b in body]
    notes = [
        "",
        "Uniform class prior; K = negatives per anchor, K+1 = batch draws with the anchor (NS21).",
        "E[K+1] = C*H_C (NS21 Table 3); K@q% = smallest K with coverage upsilon_{K+1} >= q;",
        "u(K+1=b) = upsilon_{K+1}, the probability that a batch of b samples contains every class.",
    ]
    return "\n".join(lines + notes)


def _fmt_prob(v: float, miss: float, log10_miss: float) -> str:
    if v == 0.0:
        return "0"
    if v < 1e-3:
        return f"{v:.3e}"
    if miss >= 1e-6:
        return f"{v:.6f}"
    if miss > 0:
        return f"1-{miss:.1e}"
    expo = math.floor(log10_miss)
    mant = round(10 ** (log10_miss - expo), 1)
    if mant >= 10.0:
        mant, expo = mant / 10.0, expo + 1
    return f"1-{mant:.1f}e{expo}"


def _format_csv(rows: list[DatasetRow]) -> str:
    buf = io.StringIO()
    dicts = [r.to_dict() for r in rows]
    writer = csv.DictWriter(buf, fieldnames=list(dicts[0]), lineterminator="\n")
    writer.writeheader()
    for d in dicts:
        writer.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in d.items()})
    return buf.getvalue().rstrip("\n")


def _format_json(rows: list[DatasetRow]) -> str:
    return json.dumps([asdict(r) for r in rows], indent=2, allow_nan=False)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``couponbound`` command."""
    parser = argparse.ArgumentParser(
        prog="couponbound",
        description=(
            "Coupon-collector coverage for contrastive learning (Nozawa & Sato, NeurIPS 2021): "
            "how many negatives a batch needs to contain every latent class."
        ),
        epilog=(
            "examples:\n"
            "  couponbound            table for NS21's data sets\n"
            "  couponbound --json     the same as JSON\n"
            "  couponbound --csv > coverage.csv"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON")
    fmt.add_argument("--csv", action="store_true", help="print CSV")
    parser.add_argument("--version", action="version", version=_version())
    return parser


def _version() -> str:
    from . import __version__

    return f"couponbound {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``couponbound`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    rows = dataset_table()
    if args.json:
        out = _format_json(rows)
    elif args.csv:
        out = _format_csv(rows)
    else:
        out = _format_text(rows)
    sys.stdout.write(out + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

