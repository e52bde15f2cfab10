"""Forms for suspensions, the backlog and exam sessions. Values are checked by the services
(``suspensions.validate``) so the form and the command line say the same thing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from trainer.forms import choices

EFFECT_CHOICES = choices([
    ("deemed_valid", _l("Deemed valid, with deadlines after the lift")),
    ("extend_by", _l("Extended by a number of days")),
    ("extend_to", _l("Extended to a date")),
])
DATE = {"type": "date", "placeholder": "YYYY-MM-DD"}


class SuspensionForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    start = StringField(_l("First day"), validators=[DataRequired(), Length(max=20)], render_kw=DATE)
    lift = StringField(_l("Lift date (last day; empty while ongoing)"),
                       validators=[Optional(), Length(max=20)], render_kw=DATE)
    regions = StringField(_l("Regions (code prefixes, e.g. 34, 3201; empty = all)"),
                          validators=[Optional(), Length(max=500)])
    types = StringField(_l("Certificate types (e.g. 1, 2.1, SM; empty = all)"),
                        validators=[Optional(), Length(max=500)])
    effect = SelectField(_l("Effect"), choices=EFFECT_CHOICES, default="deemed_valid")
    holder_deadline = StringField(_l("Holder deadline after the lift (e.g. 30wd, 60d, 3m; none = open)"),
                                  default="30wd", validators=[Optional(), Length(max=10)])
    exam_deadline = StringField(_l("Exam deadline after the lift (e.g. 60wd; none = open)"),
                                default="60wd", validators=[Optional(), Length(max=10)])
    extend_by = StringField(_l("Extend by (calendar days, e.g. 90d)"),
                            validators=[Optional(), Length(max=10)])
    extend_to = StringField(_l("Extend to (date)"), validators=[Optional(), Length(max=20)],
                            render_kw=DATE)
    source_url = StringField(_l("Link to the notice"), validators=[Optional(), Length(max=500)],
                             render_kw={"inputmode": "url"})
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class LiftForm(FlaskForm):
    on = StringField(_l("Lift date (the last day of the suspension)"),
                     validators=[DataRequired(), Length(max=20)], render_kw=DATE)


class ProgressForm(FlaskForm):
    state = SelectField(_l("Progress"), choices=choices([
        ("waiting", _l("Waiting")), ("applied", _l("Applied")), ("passed", _l("Passed")),
        ("failed", _l("Failed"))]))
    on = StringField(_l("Date"), validators=[DataRequired(), Length(max=20)], render_kw=DATE)


class SessionForm(FlaskForm):
    day = StringField(_l("Day"), validators=[DataRequired(), Length(max=20)], render_kw=DATE)
    place = StringField(_l("Place (empty = online)"), validators=[Optional(), Length(max=200)])
    capacity = IntegerField(_l("Seats"), validators=[InputRequired(), NumberRange(min=0, max=100000)],
                            render_kw={"inputmode": "numeric"})
    types = StringField(_l("Certificate types served (e.g. 1, 2.1; empty = all)"),
                        validators=[Optional(), Length(max=300)])
    region = StringField(_l("Region served (code prefix; empty = all)"),
                         validators=[Optional(), Length(max=6)])
