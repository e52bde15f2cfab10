"""Moved to :mod:`trainer.xlsx_reader` (shared by every upload); import it from there.

This alias keeps branches written before the move importing; new code must not use it.
"""

from trainer.xlsx_reader import XlsxTooWide, XlsxUnreadable, read_first_sheet

__all__ = ["XlsxTooWide", "XlsxUnreadable", "read_first_sheet"]
