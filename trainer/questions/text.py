"""Text clean-up shared by the question types, importers and duplicate keys."""

from __future__ import annotations

import functools
import re
import unicodedata

# C0/C1 control characters other than tab and newline: never meaningful in a question,
# and invalid in XML 1.0, so they are removed on import.
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# Anything clean_text would change; most cells have none of it, and skip the work.
_NEEDS_CLEANING = re.compile(
    r"[\r\n\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00a0\u2000-\u200b\u3000]|  "
)


def clean_text(value: str) -> str:
    """Normalise line ends and odd spaces, drop control characters, trim each line.

    No-break and ideographic spaces become ordinary spaces: authors type them by accident
    (Moodle's HTML editor and Chinese input methods) and they would defeat duplicate checks.
    """
    if not _NEEDS_CLEANING.search(value) and value == value.strip():
        return value
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    value = _CONTROL_CHARS.sub("", value)
    lines = [_SPACES.sub(" ", line).strip() for line in value.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


@functools.lru_cache(maxsize=4096)
def fold(value: str) -> str:
    """Fold a keyword for forgiving comparison: full-width to half-width, case, spaces.

    Used for header names, type names, answers and difficulties typed by people.
    """
    value = unicodedata.normalize("NFKC", value).casefold()
    return re.sub(r"[\s_\-]+", "", value)
