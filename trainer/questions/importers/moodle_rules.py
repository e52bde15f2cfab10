"""Rules shared by the Moodle formats (GIFT and Moodle XML): category paths and grades."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _

from trainer.questions.spreadsheet import normalise_category
from trainer.questions.types import option_letter

# Positive grades of a multiple-answer question must add up to 100 %. Moodle exports thirds
# as 33.33333, so the sum may miss 100 by a few millionths; 0.01 points is still strict
# enough to reject 33 + 33.33333 + 33.33333 (= 99.67).
GRADE_SUM_TOLERANCE = 0.01

_CONTEXT_TOKEN = re.compile(r"^\$[a-z0-9]+\$/?", re.IGNORECASE)


def moodle_category_path(text: str) -> str:
    """``$course$/top/A/B`` → ``A/B``.

    The leading context token (``$course$``, ``$system$``, ``$module$``, ``$cat1$`` …) names
    where the category lived in Moodle, not what it is, so it is dropped, as is the ``top``
    category that Moodle 3.5+ puts first in every context. Segments are cleaned as in
    ``normalise_category``; Moodle's ``//`` (a slash inside a category name) is kept as is.
    """
    path = normalise_category(_CONTEXT_TOKEN.sub("", text.strip()).replace("//", "\ue010"))
    if path == "top" or path.startswith("top/"):
        path = path[4:]
    return path.replace("\ue010", "//")


@dataclass(frozen=True)
class GradedAnswer:
    text: str
    percent: float  # Moodle's fraction × 100: 100 is fully correct, may be negative


@dataclass
class ChoiceVerdict:
    correct: list[int]
    error: LazyString | None = None
    warning: LazyString | None = None


def judge_single(answers: list[GradedAnswer]) -> ChoiceVerdict:
    """Single answer: the options graded 100 % are correct (the type wants exactly one)."""
    correct = [i for i, answer in enumerate(answers) if answer.percent >= 100 - GRADE_SUM_TOLERANCE]
    if not correct:
        return ChoiceVerdict(
            [],
            error=_(
                "No answer is graded %(full)s, so the question has no correct answer.",
                full="100%",
            ),
        )
    partial = [
        i for i, answer in enumerate(answers) if 0 < answer.percent < 100 - GRADE_SUM_TOLERANCE
    ]
    warning = None
    if partial:
        warning = _(
            "Partial credit for option %(letters)s was dropped: only the 100%% option is correct.",
            letters=", ".join(option_letter(i) for i in partial),
        )
    return ChoiceVerdict(correct, warning=warning)


def judge_multiple(answers: list[GradedAnswer]) -> ChoiceVerdict:
    """Multiple answers: positive grades are the correct options and must add up to 100 %."""
    correct = [i for i, answer in enumerate(answers) if answer.percent > 0]
    if not correct:
        return ChoiceVerdict([], error=_("No answer has a positive grade."))
    total = sum(answers[i].percent for i in correct)
    if abs(total - 100) > GRADE_SUM_TOLERANCE:
        return ChoiceVerdict(
            correct,
            error=_(
                "Invalid grades: the positive grades add up to %(total)s%%, not 100%%.",
                total=f"{total:g}",
            ),
        )
    return ChoiceVerdict(correct)
