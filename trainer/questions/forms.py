"""Forms of the question-bank pages (Flask-WTF, so every POST carries a CSRF token)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, Optional

from trainer.forms import choices
from trainer.questions.types import (
    MAX_CATEGORY_CHARS,
    MAX_EXPLANATION_CHARS,
    MAX_OPTION_CHARS,
    MAX_STEM_CHARS,
    OPTION_LETTERS,
)

FORMAT_LABELS = [
    ("", _l("Detect from the content")),
    ("xlsx", _l("Excel workbook (XLSX)")),
    ("csv", _l("CSV (UTF-8 or GBK)")),
    ("gift", _l("GIFT (Moodle)")),
    ("aiken", _l("Aiken")),
    ("moodle-xml", _l("Moodle XML")),
    ("json", _l("JSON (this platform's export)")),
]
TYPE_LABELS = [("single", _l("Single choice")), ("multiple", _l("Multiple choice")),
               ("true_false", _l("True/false"))]
DIFFICULTY_LABELS = [("easy", _l("Easy")), ("medium", _l("Medium")), ("hard", _l("Hard"))]
STATUS_LABELS = [("draft", _l("Draft")), ("ready", _l("Ready"))]
CERTIFICATE_CODE = re.compile(r"^(\d{1,2}(\.\d{1,2})?|[A-Z]{1,4})$")


def split_codes(text: str) -> list[str]:
    return [code for code in re.split(r"[\s,;，；、]+", text.strip().upper()) if code]


class ImportForm(FlaskForm):
    file = FileField(_l("Question file"), validators=[FileRequired()])
    format = SelectField(_l("Format"), choices=choices(FORMAT_LABELS), default="")


class ConfirmImportForm(FlaskForm):
    only_valid = BooleanField(_l("Import only the valid questions and leave out those with "
                                 "errors"))
    ready = BooleanField(_l("Mark the imported questions ready for exams"))


class BankForm(FlaskForm):
    name = StringField(_l("Bank name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    certificate_types = StringField(
        _l("Certificate types (codes such as 1.2, 2.1, SM)"),
        validators=[Optional(), Length(max=200)])
    shared_with = SelectMultipleField(_l("Share with instructors"), choices=[], coerce=int,
                                      validate_choice=True)

    def validate_certificate_types(self, field: StringField) -> None:
        bad = [code for code in split_codes(field.data or "") if not CERTIFICATE_CODE.match(code)]
        if bad:
            raise ValidationError(_l("Not a certificate type code: %(codes)s",
                                     codes=", ".join(bad)))


class QuestionForm(FlaskForm):
    type = SelectField(_l("Question type"), choices=choices(TYPE_LABELS))
    stem = TextAreaField(_l("Question text"),
                         validators=[DataRequired(), Length(max=MAX_STEM_CHARS)])
    option_a = StringField(_l("Option A"), validators=[Optional(), Length(max=MAX_OPTION_CHARS)])
    option_b = StringField(_l("Option B"), validators=[Optional(), Length(max=MAX_OPTION_CHARS)])
    option_c = StringField(_l("Option C"), validators=[Optional(), Length(max=MAX_OPTION_CHARS)])
    option_d = StringField(_l("Option D"), validators=[Optional(), Length(max=MAX_OPTION_CHARS)])
    option_e = StringField(_l("Option E"), validators=[Optional(), Length(max=MAX_OPTION_CHARS)])
    option_f = StringField(_l("Option F"), validators=[Optional(), Length(max=MAX_OPTION_CHARS)])
    correct = SelectMultipleField(_l("Correct options"), coerce=str,
                                  choices=choices((letter, letter) for letter in OPTION_LETTERS))
    true_false = SelectField(_l("Correct answer"),
                             choices=choices([("true", _l("True")), ("false", _l("False"))]))
    explanation = TextAreaField(_l("Explanation (shown after answering in practice)"),
                                validators=[Optional(), Length(max=MAX_EXPLANATION_CHARS)])
    category = StringField(_l("Category"),
                           validators=[Optional(), Length(max=MAX_CATEGORY_CHARS)])
    difficulty = SelectField(_l("Difficulty"), choices=choices(DIFFICULTY_LABELS),
                             default="medium")

    def option_fields(self) -> list[StringField]:
        return [getattr(self, f"option_{letter.lower()}") for letter in OPTION_LETTERS]


class BulkStatusForm(FlaskForm):
    question_ids = SelectMultipleField(coerce=int, validate_choice=False)
    status = SelectField(choices=choices(STATUS_LABELS))


class StatusForm(FlaskForm):
    status = SelectField(choices=choices(STATUS_LABELS))
