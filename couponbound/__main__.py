"""``python -m couponbound``: the ``couponbound`` command.

The same entry point as the console script, for environments whose ``bin/``
directory is not on ``PATH``::

    python -m couponbound --version
    python -m couponbound table --csv
"""

from __future__ import annotations

if __name__ == "__main__":
    from couponbound.cli import console_main

    raise SystemExit(console_main())
