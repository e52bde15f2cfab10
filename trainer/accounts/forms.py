from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from trainer.accounts.rules import MAX_LOGIN_LENGTH, MAX_PASSWORD_LENGTH
from trainer.forms import choices


class LoginForm(FlaskForm):
    login = StringField(
        _l("Mobile number or username"),
        validators=[DataRequired(), Length(max=MAX_LOGIN_LENGTH, message=_l(
            "A mobile number or username has at most %(max)d characters.", max=MAX_LOGIN_LENGTH))],
        render_kw={"autocomplete": "username", "autocapitalize": "none",
                   "maxlength": MAX_LOGIN_LENGTH})
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH, message=_l(
            "A password has at most %(max)d characters.", max=MAX_PASSWORD_LENGTH))],
        render_kw={"autocomplete": "current-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)],
                                 render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("New password again"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("The two new passwords differ."))],
        render_kw={"autocomplete": "new-password"})


ROLE_CHOICES = choices([("worker", _l("Worker")), ("instructor", _l("Instructor")),
                ("employer_admin", _l("Employer admin")), ("admin", _l("Admin"))])


class UserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    phone = StringField(_l("Mobile number"), validators=[Optional(), Length(max=20)],
                        render_kw={"inputmode": "tel"})
    username = StringField(_l("Username"), validators=[Optional(), Length(max=40)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES, default="worker")
    national_id = StringField(_l("National ID number"), validators=[Optional(), Length(max=20)])
    employer = SelectField(_l("Employer"), choices=[], validate_choice=False)
    password = PasswordField(_l("Initial password (leave empty to generate one)"),
                             validators=[Optional(), Length(max=200)])


class EditUserForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    employer = SelectField(_l("Employer"), choices=[], validate_choice=False)
    active = BooleanField(_l("Active (may log in)"))


class UploadForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired()])


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""


class EmployerForm(FlaskForm):
    name = StringField(_l("Employer name"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(_l("Unified social credit code"),
                              validators=[Optional(), Length(min=18, max=18)])
    region_code = SelectField(_l("Region"), choices=[], validate_choice=False)


class ProductionStateForm(FlaskForm):
    production_state = SelectField(_l("Production state"), choices=choices([
        ("normal", _l("Normal production")), ("suspended", _l("Production suspended")),
        ("resuming", _l("Resuming production"))]))


class RegionForm(FlaskForm):
    code = StringField(_l("Code (6 digits)"), validators=[DataRequired(), Length(min=6, max=6)])
    name = StringField(_l("Region name"), validators=[DataRequired(), Length(max=100)])
