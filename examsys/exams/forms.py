from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional


class SessionForm(FlaskForm):
    certification = SelectField(_l("Certification"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    opens_at = DateTimeLocalField(_l("Opens (UTC)"), format="%Y-%m-%dT%H:%M",
                                  validators=[DataRequired()])
    closes_at = DateTimeLocalField(_l("Closes (UTC)"), format="%Y-%m-%dT%H:%M",
                                   validators=[DataRequired()])
    access_code = StringField(_l("Access code (optional)"), validators=[Optional(),
                                                                        Length(max=32)])
    release = SelectField(_l("Results are released"), choices=[
        SelectChoice("immediate", _l("immediately after grading")),
        SelectChoice("after_close", _l("after the window closes")),
        SelectChoice("manual", _l("when an examiner releases them"))])


class EnrollForm(FlaskForm):
    email = EmailField(_l("Candidate's email"), validators=[DataRequired(), Email(),
                                                            Length(max=254)])
    name = StringField(_l("Name (for a new account)"), validators=[Optional(), Length(max=200)])


class EnrollCsvForm(FlaskForm):
    file = FileField(_l("CSV file (email,name)"), validators=[FileRequired(_l("Choose a file."))])


class ActionForm(FlaskForm):
    """A button that changes state: only the CSRF token is needed."""


class StartForm(FlaskForm):
    access_code = StringField(_l("Access code"), validators=[Optional(), Length(max=64)])
