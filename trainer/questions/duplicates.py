"""Duplicate questions: a key from the normalised stem and options.

Two questions are duplicates when their stems and option sets read the same once width,
case, whitespace and punctuation are ignored and options are taken in any order: the same
question typed twice, or shuffled, or with Chinese instead of ASCII punctuation. The type,
answer, explanation and category do not count, so a duplicate with a different answer is
found too (often the more important case). The key is a SHA-256 hex digest, fit for an
indexed column.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Collection, Iterable

from trainer.questions.import_result import Duplicate, Location, ParsedQuestion
from trainer.questions.types import QuestionContent


class _IgnoredCharacters(dict[int, int | None]):
    """``str.translate`` table that drops punctuation, separators and control characters.

    Filled lazily, one entry per distinct character met (capped, so a hostile file with every
    Unicode character cannot grow it without bound).
    """

    def __missing__(self, codepoint: int) -> int | None:
        kept = codepoint if unicodedata.category(chr(codepoint))[0] not in "PZC" else None
        if len(self) < 50_000:
            self[codepoint] = kept
        return kept


_IGNORED = _IgnoredCharacters()


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().translate(_IGNORED)


def duplicate_key(content: QuestionContent) -> str:
    options = sorted(_normalise(option) for option in content.options)
    payload = "\x1f".join([_normalise(content.stem), *options])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def find_duplicates(
    questions: Iterable[ParsedQuestion], existing_keys: Collection[str] = ()
) -> list[Duplicate]:
    """Questions that repeat an existing key, or an earlier question of the same file."""
    first_seen: dict[str, Location] = {}
    duplicates: list[Duplicate] = []
    for question in questions:
        key = duplicate_key(question.content)
        question.key = key
        if key in existing_keys:
            duplicates.append(Duplicate(question.location, None, key))
            first_seen.setdefault(key, question.location)
        elif key in first_seen:
            duplicates.append(Duplicate(question.location, first_seen[key], key))
        else:
            first_seen[key] = question.location
    return duplicates
