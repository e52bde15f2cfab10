from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class CertificateTypeForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), validators=[DataRequired(), Length(max=100)])
    name_en = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=150)])
    validity_years = IntegerField(_l("Validity (years)"),
                                  validators=[DataRequired(), NumberRange(min=1, max=50)])
    review_interval_years = IntegerField(
        _l("Review every (years; empty: no review)"),
        validators=[Optional(), NumberRange(min=1, max=50)])
    renewal_window_days = IntegerField(
        _l("Renewal window (days before the due date)"),
        validators=[DataRequired(), NumberRange(min=0, max=366)])
    initial_hours = DecimalField(_l("Training hours to issue (empty: no check)"), places=1,
                                 validators=[Optional(), NumberRange(min=0, max=9999)])
    review_hours = DecimalField(_l("Training hours to renew (empty: no check)"), places=1,
                                validators=[Optional(), NumberRange(min=0, max=9999)])
    course_key = StringField(_l("Course key"), validators=[Optional(), Length(max=100)])
    exam_key = StringField(_l("Exam key"), validators=[Optional(), Length(max=100)])
    active = BooleanField(_l("Active (certificates of this type can be issued)"))


class VerifyForm(FlaskForm):
    class Meta:
        csrf = False  # a GET lookup that changes nothing

    number = StringField(_l("Certificate number"), validators=[DataRequired(), Length(max=40)])
