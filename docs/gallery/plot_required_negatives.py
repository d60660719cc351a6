"""
How many negatives? The batch size for a given coverage
=======================================================

:func:`couponbound.required_negatives` answers the practitioner's question
directly: the smallest number of negatives :math:`K` for which a batch of
:math:`K + 1` samples contains every class with probability at least
``confidence``.  For :math:`C` equally likely classes it grows like
:math:`C \\ln C`; the lines are 50 %, 90 % and 99 % coverage, the grey dashed
line :math:`K + 1 = C`, below which no batch can cover every class.
"""

import matplotlib.pyplot as plt
import numpy as np

from couponbound import required_negatives
from couponbound.paper.style import paper_style

Cs = np.unique(np.geomspace(2, 5000, 40).astype(int))
with paper_style("neurips", columns=1):
    fig, ax = plt.subplots()
    for conf, color in ((0.5, "#56B4E9"), (0.9, "#0072B2"), (0.99, "#000000")):
        ks = [required_negatives(int(c), confidence=conf) for c in Cs]
        ax.plot(Cs, ks, color=color, lw=1.4, label=f"{conf:.0%} coverage")
    ax.plot(Cs, Cs - 1, color="0.5", ls="--", lw=0.9, label=r"$K+1 = C$")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"classes $C$ (uniform)")
    ax.set_ylabel(r"negatives $K$ needed")
    ax.legend(fontsize="small")
    ax.grid(True, lw=0.4, alpha=0.4)

for c in (10, 100, 1000):
    k = required_negatives(c, confidence=0.99)
    print(f"C = {c:5d}: K = {k:6d} for 99 % coverage")

plt.show()
