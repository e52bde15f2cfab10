from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, DecimalField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from trainer.forms import choices


class EnrolForm(FlaskForm):
    course = SelectField(_l("Course"), choices=[], validate_choice=False,
                         validators=[DataRequired()])
    mode = RadioField(_l("Whom to enrol"), default="worker", choices=choices([
        ("worker", _l("One worker")), ("employer", _l("Every worker of an employer")),
        ("certificate", _l("Every worker holding a certificate type"))]))
    login = StringField(_l("Worker's mobile number"), validators=[Optional(), Length(max=60)],
                        render_kw={"inputmode": "tel", "autocomplete": "off"})
    employer = SelectField(_l("Employer"), choices=[], validate_choice=False)
    certificate_type = StringField(_l("Certificate type code (e.g. 1.2, SM)"),
                                   validators=[Optional(), Length(max=10)])
    due_on = DateField(_l("Due date (optional)"), validators=[Optional()])


class UploadLessonForm(FlaskForm):
    course = SelectField(_l("Course"), choices=[], validate_choice=False,
                         validators=[DataRequired()])
    title_zh = StringField(_l("Lesson title (Chinese)"),
                           validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Lesson title (English)"),
                           validators=[DataRequired(), Length(max=200)])
    video = FileField(_l("Video file"), validators=[FileRequired()],
                      render_kw={"accept": "video/*"})


class NewCourseForm(FlaskForm):
    key = StringField(_l("Course id (lowercase letters, digits and hyphens)"),
                      validators=[DataRequired(), Length(max=64)],
                      render_kw={"autocapitalize": "none", "autocomplete": "off"})
    title_zh = StringField(_l("Title (Chinese)"), validators=[DataRequired(), Length(max=200)])
    title_en = StringField(_l("Title (English)"), validators=[DataRequired(), Length(max=200)])
    description_zh = TextAreaField(_l("Description (Chinese)"), validators=[Optional()])
    description_en = TextAreaField(_l("Description (English)"), validators=[Optional()])
    hours = DecimalField(_l("Training hours for the whole course"), places=2,
                         validators=[DataRequired(), NumberRange(min=0.01, max=999)])
    certificate_types = StringField(_l("Certificate type codes, separated by commas (e.g. SM, PM)"),
                                    validators=[DataRequired(), Length(max=200)])
    purpose = SelectField(_l("Training for"), choices=choices([
        ("review", _l("Review (refresher) training")), ("initial", _l("Initial training"))]))
