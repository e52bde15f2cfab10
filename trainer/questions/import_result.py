"""What an importer returns: questions, unsupported questions, errors, warnings, categories."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from flask_babel import LazyString
from flask_babel import lazy_gettext as _

from trainer.questions.types import ContentError, QuestionContent, validate

LocationKind = Literal["line", "row", "item"]


@dataclass(frozen=True)
class Location:
    """Where something is in the uploaded file.

    ``line``: a line of a text file (GIFT, Aiken, Moodle XML), 1-based.
    ``row``: a spreadsheet row as Excel numbers it (the header is row 1; CSV counts records).
    ``item``: the n-th object of a JSON list, 1-based.
    """

    kind: LocationKind
    number: int

    def describe(self) -> LazyString:
        if self.kind == "line":
            return _("line %(number)s", number=self.number)
        if self.kind == "row":
            return _("row %(number)s", number=self.number)
        return _("item %(number)s", number=self.number)

    def __str__(self) -> str:
        return str(self.describe())


# Labels of the fields named in errors, for people reading them.
_FIELD_LABELS: dict[str, LazyString] = {
    "file": _("file"),
    "header": _("header row"),
    "type": _("type"),
    "stem": _("question text"),
    "options": _("options"),
    "option_a": _("option A"),
    "option_b": _("option B"),
    "option_c": _("option C"),
    "option_d": _("option D"),
    "option_e": _("option E"),
    "option_f": _("option F"),
    "answer": _("answer"),
    "explanation": _("explanation"),
    "category": _("category"),
    "difficulty": _("difficulty"),
    "images": _("images"),
    "grades": _("grades"),
}


def field_label(name: str) -> LazyString | str:
    return _FIELD_LABELS.get(name, name)


@dataclass(frozen=True)
class ImportIssue:
    """An error (the question or file was not imported) or a warning (imported, with a note)."""

    file: str
    location: Location | None
    field: str
    reason: LazyString

    def describe(self) -> LazyString:
        """One line for people: ``bank.xlsx, row 7, answer: The answer is empty.``"""
        if self.location is None:
            return _(
                "%(file)s, %(field)s: %(reason)s",
                file=self.file,
                field=field_label(self.field),
                reason=self.reason,
            )
        return _(
            "%(file)s, %(location)s, %(field)s: %(reason)s",
            file=self.file,
            location=self.location.describe(),
            field=field_label(self.field),
            reason=self.reason,
        )

    def __str__(self) -> str:
        return str(self.describe())


@dataclass(frozen=True)
class UnsupportedQuestion:
    """A question of a type this platform does not take (essay, matching, numerical ...)."""

    name: str
    kind: str
    location: Location


@dataclass
class ParsedQuestion:
    content: QuestionContent
    location: Location
    name: str = ""
    # The duplicate key, filled in by find_duplicates (so an import does not compute it twice).
    key: str = ""


@dataclass(frozen=True)
class Duplicate:
    """A question whose stem and options repeat an earlier one in the file, or the bank.

    ``first`` is the earlier location in the same file, or None when the key was among the
    existing keys passed in.
    """

    location: Location
    first: Location | None
    key: str


@dataclass
class ParseResult:
    filename: str
    format: str
    questions: list[ParsedQuestion] = field(default_factory=list)
    unsupported: list[UnsupportedQuestion] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportIssue] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing failed; an import should be all-or-nothing on this."""
        return not self.errors

    def error(self, location: Location | None, field_name: str, reason: LazyString) -> None:
        self.errors.append(ImportIssue(self.filename, location, field_name, reason))

    def warn(self, location: Location | None, field_name: str, reason: LazyString) -> None:
        self.warnings.append(ImportIssue(self.filename, location, field_name, reason))

    def see_category(self, category: str) -> None:
        if category and category not in self.categories:
            self.categories.append(category)

    def add_question(self, content: QuestionContent, location: Location, name: str = "") -> bool:
        """Validate ``content`` with its type; keep it, or record its errors. True if kept."""
        problems: list[ContentError] = validate(content)
        if problems:
            for problem in problems:
                self.error(location, problem.field, problem.reason)
            return False
        self.see_category(content.category)
        self.questions.append(ParsedQuestion(content, location, name))
        return True

    def add_unsupported(self, name: str, kind: str, location: Location) -> None:
        self.unsupported.append(UnsupportedQuestion(name, kind, location))


def short_name(text: str, limit: int = 40) -> str:
    """The first words of a question, to name it in a report."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
