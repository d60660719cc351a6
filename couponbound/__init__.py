"""couponbound: exact, fast coupon-collector coverage and the NS21 bounds.

``import couponbound`` is light: numpy and scipy only.  matplotlib, sympy and
any deep-learning framework are imported by the functions that need them.
"""

from __future__ import annotations

__version__ = "0.1.0"
