"""What every CSV/XLSX export shares: cells Excel must not run as formulas."""

from __future__ import annotations

from typing import Any

# A cell starting with one of these is run as a formula by Excel (CSV/formula injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that would start a formula gets a leading quote; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
