"""Figures and tables in the style of NS21's paper.

- :mod:`couponbound.paper.tables` -- named data-set priors, NS21's Table 3 and
  Table 2 (Markdown, LaTeX, CSV, JSON);
- :mod:`couponbound.paper.plots` -- coverage, collision and bound figures and
  :func:`~couponbound.paper.plots.paper_style`.

matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

__all__: list[str] = []
