"""Figures and tables in the style of NS21's paper.

- :mod:`couponbound.paper.datasets` -- the registry of named data sets
  (named :class:`~couponbound.Prior` objects) shared by the command, the
  tables and the figures;
- :mod:`couponbound.paper.tables` -- :class:`~couponbound.paper.tables.Table`
  (Markdown, LaTeX, CSV, JSON), NS21's Table 3 and Table 2;
- :mod:`couponbound.paper.reports` -- saved runs (JSON) back to reports;
- :mod:`couponbound.paper.plots` -- coverage, collision and bound figures;
- :mod:`couponbound.paper.style` -- :func:`~couponbound.paper.style.paper_style`
  and :func:`~couponbound.paper.style.save_figure`;
- :mod:`couponbound.paper.summary` -- the numbers the ``couponbound`` command prints;
- :mod:`couponbound.paper.outputs` -- writing figures and tables to a directory.

matplotlib is imported only when a figure is drawn.
"""

from __future__ import annotations

__all__: list[str] = []
