"""The registry of question types.

Each type is a class registered under a key (``single``, ``multiple``, ``true_false``); it
validates its content, normalises a learner's raw response, grades it and names the template
that renders it. Callers go through :func:`get_type` (or :func:`validate` / :func:`grade`), so a
new type is one new class here and no ``if type == ...`` anywhere else (CTFd's challenge types
are the model).
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar, NamedTuple

from flask_babel import LazyString
from flask_babel import lazy_gettext as _

from trainer.questions.text import fold

DIFFICULTIES = ("easy", "medium", "hard")
DEFAULT_DIFFICULTY = "medium"
OPTION_LETTERS = "ABCDEF"
MIN_OPTIONS = 2
MAX_OPTIONS = len(OPTION_LETTERS)
MAX_STEM_CHARS = 5000
MAX_OPTION_CHARS = 1000
MAX_EXPLANATION_CHARS = 5000
MAX_CATEGORY_CHARS = 255
MAX_IMAGES = 10
IMAGE_MIMES = ("image/png", "image/jpeg")

Answer = list[int] | bool
Response = list[int] | bool


class QuestionImage(NamedTuple):
    """An image that belongs to a question: ``(filename, bytes, mime)``."""

    filename: str
    data: bytes
    mime: str


@dataclass
class QuestionContent:
    """What a question says, independent of storage and of the file it came from.

    ``answer`` is a sorted list of 0-based option indexes for choice types, or a bool for
    true/false. ``category`` is a path such as ``"电工作业/低压电工"`` ("" for none).
    """

    type: str
    stem: str
    options: list[str] = field(default_factory=list)
    answer: Answer = field(default_factory=list)
    explanation: str = ""
    category: str = ""
    difficulty: str = DEFAULT_DIFFICULTY
    images: list[QuestionImage] = field(default_factory=list)


@dataclass(frozen=True)
class ContentError:
    """One problem with a question's content: which field, and why (translatable)."""

    field: str
    reason: LazyString


class AnswerTextError(ValueError):
    """An answer typed in a spreadsheet cell that the type cannot read."""

    def __init__(self, reason: LazyString) -> None:
        super().__init__(str(reason))
        self.reason = reason


class UnknownQuestionType(KeyError):
    """No question type is registered under this key."""


def option_field(index: int) -> str:
    """Field name of an option, as used in errors: ``option_a`` .. ``option_f``."""
    return "option_" + OPTION_LETTERS[index].lower() if 0 <= index < MAX_OPTIONS else "options"


def option_letter(index: int) -> str:
    return OPTION_LETTERS[index] if 0 <= index < MAX_OPTIONS else str(index + 1)


def _is_index(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_WHITESPACE = re.compile(r"\s+")
_ANSWER_SEPARATORS = re.compile(r"[\s,;/|、]+")


def _same_text_key(value: str) -> str:
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", value).casefold())


class QuestionType(ABC):
    """Base class of every question type. Subclasses set ``key``, ``label`` and ``aliases``."""

    key: ClassVar[str]
    label: ClassVar[LazyString]
    # Spellings accepted in the 题型/type column of the spreadsheet template (compared folded).
    aliases: ClassVar[tuple[str, ...]] = ()

    @property
    def template(self) -> str:
        """Jinja template that renders a question of this type to a learner."""
        return f"questions/types/{self.key}.html"

    # --- content -------------------------------------------------------------------------

    def validate(self, content: QuestionContent) -> list[ContentError]:
        """Every problem with ``content`` (an empty list when it is a valid question)."""
        errors = _validate_common(content)
        errors.extend(self.validate_answer(content))
        return errors

    @abstractmethod
    def validate_answer(self, content: QuestionContent) -> list[ContentError]:
        """Problems with the options and the answer, which depend on the type."""

    # --- responses -----------------------------------------------------------------------

    @abstractmethod
    def normalise_response(self, raw: object, option_count: int | None = None) -> Response:
        """Turn a raw response (JSON value or form strings) into the type's response shape.

        Raises ValueError for anything that is not a response to this type.
        """

    @abstractmethod
    def score(self, content: QuestionContent, response: Response) -> float:
        """Score a normalised response against valid content: a float in [0, 1]."""

    def grade(self, content: QuestionContent, response: object) -> float:
        """Score in [0, 1]. A malformed response, or malformed content, scores 0; never raises."""
        if self.validate_answer(content):
            return 0.0
        try:
            normalised = self.normalise_response(response, option_count=len(content.options))
        except (ValueError, TypeError):
            return 0.0
        return min(1.0, max(0.0, float(self.score(content, normalised))))

    # --- spreadsheet cells ---------------------------------------------------------------

    @abstractmethod
    def parse_answer_text(self, text: str, option_count: int) -> Answer:
        """Read the 答案/answer cell of the spreadsheet template. Raises AnswerTextError."""

    @abstractmethod
    def format_answer_text(self, answer: Answer, language: str = "zh") -> str:
        """Write an answer for the 答案/answer cell (``language`` is ``zh`` or ``en``)."""


def _validate_common(content: QuestionContent) -> list[ContentError]:
    errors: list[ContentError] = []
    if not isinstance(content.stem, str) or not content.stem.strip():
        errors.append(ContentError("stem", _("The question text is empty.")))
    elif len(content.stem) > MAX_STEM_CHARS:
        errors.append(
            ContentError(
                "stem",
                _("The question text is longer than %(limit)s characters.", limit=MAX_STEM_CHARS),
            )
        )
    if not isinstance(content.explanation, str):
        errors.append(ContentError("explanation", _("The explanation must be text.")))
    elif len(content.explanation) > MAX_EXPLANATION_CHARS:
        errors.append(
            ContentError(
                "explanation",
                _(
                    "The explanation is longer than %(limit)s characters.",
                    limit=MAX_EXPLANATION_CHARS,
                ),
            )
        )
    if not isinstance(content.category, str):
        errors.append(ContentError("category", _("The category must be text.")))
    elif len(content.category) > MAX_CATEGORY_CHARS:
        errors.append(
            ContentError(
                "category",
                _("The category is longer than %(limit)s characters.", limit=MAX_CATEGORY_CHARS),
            )
        )
    if content.difficulty not in DIFFICULTIES:
        errors.append(
            ContentError(
                "difficulty",
                _(
                    "Unknown difficulty “%(value)s”; use easy, medium or hard.",
                    value=content.difficulty,
                ),
            )
        )
    if len(content.images) > MAX_IMAGES:
        errors.append(
            ContentError(
                "images", _("A question can have at most %(limit)s images.", limit=MAX_IMAGES)
            )
        )
    for image in content.images:
        if image.mime not in IMAGE_MIMES or not image.data:
            errors.append(
                ContentError(
                    "images",
                    _("Image “%(name)s” is not a PNG or JPEG image.", name=image.filename),
                )
            )
    return errors


class ChoiceType(QuestionType):
    """Shared behaviour of types whose answer is a set of option indexes."""

    min_correct: ClassVar[int] = 1
    max_correct: ClassVar[int] = MAX_OPTIONS

    def validate_answer(self, content: QuestionContent) -> list[ContentError]:
        errors: list[ContentError] = []
        options = content.options
        if not isinstance(options, list):
            return [ContentError("options", _("The options must be a list."))]
        if len(options) < MIN_OPTIONS:
            errors.append(
                ContentError(
                    "options", _("At least %(minimum)s options are needed.", minimum=MIN_OPTIONS)
                )
            )
        if len(options) > MAX_OPTIONS:
            errors.append(
                ContentError(
                    "options",
                    _("At most %(maximum)s options (A–F) are allowed.", maximum=MAX_OPTIONS),
                )
            )
        seen: dict[str, int] = {}
        for index, option in enumerate(options):
            where = option_field(index)
            if not isinstance(option, str) or not option.strip():
                errors.append(
                    ContentError(
                        where, _("Option %(letter)s is empty.", letter=option_letter(index))
                    )
                )
                continue
            if len(option) > MAX_OPTION_CHARS:
                errors.append(
                    ContentError(
                        where,
                        _(
                            "Option %(letter)s is longer than %(limit)s characters.",
                            letter=option_letter(index),
                            limit=MAX_OPTION_CHARS,
                        ),
                    )
                )
            key = _same_text_key(option)
            if key in seen:
                errors.append(
                    ContentError(
                        where,
                        _(
                            "Option %(letter)s repeats option %(first)s.",
                            letter=option_letter(index),
                            first=option_letter(seen[key]),
                        ),
                    )
                )
            else:
                seen[key] = index
        errors.extend(self._validate_correct(content.answer, len(options)))
        return errors

    def _validate_correct(self, answer: object, option_count: int) -> list[ContentError]:
        if not isinstance(answer, list) or not all(_is_index(i) for i in answer):
            return [ContentError("answer", _("The answer must be a list of option numbers."))]
        errors: list[ContentError] = []
        if len(set(answer)) != len(answer):
            errors.append(ContentError("answer", _("The answer names an option twice.")))
        out_of_range = [i for i in answer if not 0 <= i < option_count]
        if out_of_range:
            errors.append(
                ContentError(
                    "answer",
                    _(
                        "The answer names option %(letter)s, which does not exist.",
                        letter=option_letter(out_of_range[0]),
                    ),
                )
            )
        errors.extend(self._validate_correct_count(len(set(answer))))
        return errors

    @abstractmethod
    def _validate_correct_count(self, count: int) -> list[ContentError]: ...

    def normalise_response(self, raw: object, option_count: int | None = None) -> list[int]:
        items: Iterable[object]
        if isinstance(raw, list | tuple):
            items = raw
        elif isinstance(raw, int | str) and not isinstance(raw, bool):
            items = [raw] if raw != "" else []
        else:
            raise ValueError(f"not a choice response: {type(raw).__name__}")
        indexes: list[int] = []
        for item in items:
            if isinstance(item, int) and not isinstance(item, bool):
                index = item
            elif isinstance(item, str) and item.strip().isascii() and item.strip().isdigit():
                index = int(item.strip())
            else:
                raise ValueError(f"not an option index: {item!r}")
            limit = MAX_OPTIONS if option_count is None else min(option_count, MAX_OPTIONS)
            if not 0 <= index < limit:
                raise ValueError(f"option index out of range: {index}")
            if index in indexes:
                raise ValueError(f"option chosen twice: {index}")
            indexes.append(index)
        if len(indexes) > self.max_correct:
            raise ValueError("too many options chosen")
        return sorted(indexes)

    def parse_answer_text(self, text: str, option_count: int) -> list[int]:
        letters = _ANSWER_SEPARATORS.sub("", unicodedata.normalize("NFKC", text).upper())
        if not letters:
            raise AnswerTextError(_("The answer is empty."))
        indexes: list[int] = []
        for letter in letters:
            if letter not in OPTION_LETTERS:
                raise AnswerTextError(
                    _(
                        "“%(value)s” is not an answer; write option letters such as A or ABD.",
                        value=text.strip(),
                    )
                )
            index = OPTION_LETTERS.index(letter)
            if index in indexes:
                raise AnswerTextError(_("The answer names option %(letter)s twice.", letter=letter))
            if index >= option_count:
                raise AnswerTextError(
                    _(
                        "The answer names option %(letter)s, which is empty.",
                        letter=letter,
                    )
                )
            indexes.append(index)
        return sorted(indexes)

    def format_answer_text(self, answer: Answer, language: str = "zh") -> str:
        if isinstance(answer, bool):
            raise ValueError("choice answer expected")
        return "".join(option_letter(i) for i in sorted(answer))


_registry: dict[str, QuestionType] = {}


def register_type(cls: type[QuestionType]) -> type[QuestionType]:
    """Class decorator: register one instance of ``cls`` under ``cls.key``."""
    if cls.key in _registry:
        raise ValueError(f"question type {cls.key!r} is already registered")
    _registry[cls.key] = cls()
    return cls


@register_type
class SingleChoice(ChoiceType):
    """单选题: two to six options, exactly one correct."""

    key = "single"
    label = _("Single choice")
    aliases = ("单选题", "单选", "单项选择题", "单项选择", "single", "single choice")
    max_correct = 1

    def _validate_correct_count(self, count: int) -> list[ContentError]:
        if count != 1:
            return [
                ContentError(
                    "answer", _("A single-choice question needs exactly one correct option.")
                )
            ]
        return []

    def score(self, content: QuestionContent, response: Response) -> float:
        return 1.0 if response == content.answer else 0.0


@register_type
class MultipleChoice(ChoiceType):
    """多选题: two to six options, one or more correct.

    Scoring is all-or-nothing by default. ``partial_credit`` (for example 0.5, the common
    “少选得一半分” rule) is given when the learner chose some but not all correct options and
    no wrong one; choosing any wrong option always scores 0.
    """

    key = "multiple"
    label = _("Multiple choice")
    aliases = ("多选题", "多选", "多项选择题", "多项选择", "multiple", "multiple choice")

    def __init__(self, partial_credit: float = 0.0) -> None:
        if not 0.0 <= partial_credit < 1.0:
            raise ValueError("partial_credit must be in [0, 1)")
        self.partial_credit = partial_credit

    def _validate_correct_count(self, count: int) -> list[ContentError]:
        if count < 1:
            return [
                ContentError(
                    "answer", _("A multiple-choice question needs at least one correct option.")
                )
            ]
        return []

    def score(self, content: QuestionContent, response: Response) -> float:
        if isinstance(response, bool) or isinstance(content.answer, bool):
            return 0.0
        chosen, correct = set(response), set(content.answer)
        if chosen == correct:
            return 1.0
        if chosen and chosen < correct:
            return self.partial_credit
        return 0.0


_TRUE_WORDS = ("对", "正确", "t", "true", "√", "✓", "✔", "是", "y", "yes")
_FALSE_WORDS = ("错", "错误", "f", "false", "×", "✗", "✘", "否", "n", "no")


@register_type
class TrueFalse(QuestionType):
    """判断题: a statement that is true or false; no options."""

    key = "true_false"
    label = _("True/false")
    aliases = ("判断题", "判断", "是非题", "true_false", "true/false", "truefalse")

    def validate_answer(self, content: QuestionContent) -> list[ContentError]:
        errors: list[ContentError] = []
        if content.options:
            errors.append(ContentError("options", _("A true/false question takes no options.")))
        if not isinstance(content.answer, bool):
            errors.append(ContentError("answer", _("The answer must be true or false.")))
        return errors

    def normalise_response(self, raw: object, option_count: int | None = None) -> bool:
        if isinstance(raw, bool):
            return raw
        if _is_index(raw) and raw in (0, 1):
            return bool(raw)
        if isinstance(raw, str):
            word = fold(raw)
            if word in ("true", "t", "1"):
                return True
            if word in ("false", "f", "0"):
                return False
        raise ValueError(f"not a true/false response: {raw!r}")

    def score(self, content: QuestionContent, response: Response) -> float:
        return 1.0 if response is content.answer else 0.0

    def parse_answer_text(self, text: str, option_count: int) -> bool:
        word = fold(text)
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
        if not word:
            raise AnswerTextError(_("The answer is empty."))
        raise AnswerTextError(
            _(
                "“%(value)s” is not a true/false answer; write 对 or 错 (true/false, T/F, √/×).",
                value=text.strip(),
            )
        )

    def format_answer_text(self, answer: Answer, language: str = "zh") -> str:
        if not isinstance(answer, bool):
            raise ValueError("true/false answer expected")
        if language == "zh":
            return "正确" if answer else "错误"
        return "true" if answer else "false"


# --- registry access ---------------------------------------------------------------------


def get_type(key: str) -> QuestionType:
    """The registered type for ``key``. Raises UnknownQuestionType."""
    try:
        return _registry[key]
    except KeyError:
        raise UnknownQuestionType(key) from None


def question_types() -> tuple[QuestionType, ...]:
    """All registered types, in registration order."""
    return tuple(_registry.values())


_alias_index: tuple[tuple[QuestionType, ...], dict[str, QuestionType]] = ((), {})


def type_for_alias(text: str) -> QuestionType | None:
    """The type a spreadsheet spelling names (``单选题``, ``Ｓｉｎｇｌｅ``, ``true_false`` ...)."""
    global _alias_index
    registered = tuple(_registry.values())
    if _alias_index[0] != registered:
        index: dict[str, QuestionType] = {}
        for question_type in registered:
            for spelling in (question_type.key, *question_type.aliases):
                index.setdefault(fold(spelling), question_type)
        _alias_index = (registered, index)
    return _alias_index[1].get(fold(text))


def validate(content: QuestionContent) -> list[ContentError]:
    """Validate content with its own type; an unknown type is itself an error."""
    try:
        question_type = get_type(content.type)
    except UnknownQuestionType:
        return [ContentError("type", _("Unknown question type “%(value)s”.", value=content.type))]
    return question_type.validate(content)


def grade(content: QuestionContent, response: object) -> float:
    """Grade a response with the content's type: a float in [0, 1], never an exception."""
    try:
        question_type = get_type(content.type)
    except UnknownQuestionType:
        return 0.0
    return question_type.grade(content, response)
