"""Forms of the exams area: the exam definition (with blueprint rows) and small POST forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from trainer.forms import choices
from trainer.questions.types import question_types

BLUEPRINT_ROWS = 6


def type_choices() -> list:  # type: ignore[type-arg]
    return choices([("", "—")] + [(t.key, t.label) for t in question_types()])


class BlueprintRowForm(Form):
    type = SelectField(_l("Question type"), choices=[], validate_choice=False)
    category = StringField(_l("Category (empty: any)"), validators=[Optional(), Length(max=255)])
    count = IntegerField(_l("Questions"), validators=[Optional(), NumberRange(min=1, max=500)])
    points = FloatField(_l("Points each"), validators=[Optional(), NumberRange(min=0.01,
                                                                              max=100)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ExamForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    mode = SelectField(_l("Mode"), choices=choices([("formal", _l("Formal exam")),
                                                    ("practice", _l("Practice"))]))
    certificate_type = StringField(_l("Certificate type (catalogue code, e.g. 1.2)"),
                                   validators=[Optional(), Length(max=10)])
    banks = MultiCheckboxField(_l("Question banks"), choices=[], coerce=int,
                               validate_choice=False)
    rows = FieldList(FormField(BlueprintRowForm), min_entries=BLUEPRINT_ROWS,
                     max_entries=BLUEPRINT_ROWS)
    question_count = IntegerField(_l("Questions (without blueprint rows)"),
                                  validators=[Optional(), NumberRange(min=1, max=500)])
    time_limit_minutes = FloatField(_l("Time limit (minutes)"),
                                    validators=[DataRequired(), NumberRange(min=0.05, max=1440)],
                                    default=120)
    grace_seconds = IntegerField(_l("Grace period for the last save (seconds)"), default=30,
                                 validators=[Optional(), NumberRange(min=0, max=600)])
    pass_mark = IntegerField(_l("Pass mark (of 100)"), default=80,
                             validators=[DataRequired(), NumberRange(min=1, max=100)])
    max_attempts = IntegerField(_l("Attempts per sitting (exam plus make-ups)"), default=2,
                                validators=[DataRequired(), NumberRange(min=1, max=10)])
    opens_at = DateTimeLocalField(_l("Opens (local time, optional)"), validators=[Optional()],
                                  format="%Y-%m-%dT%H:%M")
    closes_at = DateTimeLocalField(_l("Closes (local time, optional)"), validators=[Optional()],
                                   format="%Y-%m-%dT%H:%M")
    prerequisite_course = StringField(_l("Prerequisite course key (optional)"),
                                      validators=[Optional(), Length(max=100)])
    review_allowed = BooleanField(_l("Show answers and explanations after the exam"),
                                  default=True)


class EmptyForm(FlaskForm):
    """A POST with nothing but the CSRF token."""
