"""Small helpers shared by every area's forms."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from wtforms import SelectChoice


def choices(pairs: Iterable[tuple[str, Any]]) -> list[SelectChoice]:
    """SelectField choices from (value, label) pairs; WTForms 3.3 deprecates plain tuples."""
    return [SelectChoice(value, label) for value, label in pairs]
