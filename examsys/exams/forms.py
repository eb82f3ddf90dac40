from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateTimeLocalField,
    DecimalField,
    EmailField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional


class SessionForm(FlaskForm):
    certification = SelectField(_l("Certification"), validators=[DataRequired()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    # InputRequired, not DataRequired: a date that does not parse keeps its own message
    # ("Not a valid datetime value") instead of "This field is required".
    opens_at = DateTimeLocalField(_l("Opens (UTC)"), format="%Y-%m-%dT%H:%M",
                                  validators=[InputRequired()])
    closes_at = DateTimeLocalField(_l("Closes (UTC)"), format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired()])
    access_code = StringField(_l("Access code (optional)"), validators=[Optional(),
                                                                        Length(max=32)])
    release = SelectField(_l("Results are released"), choices=[
        SelectChoice("immediate", _l("immediately after grading")),
        SelectChoice("after_close", _l("after every window closes")),
        SelectChoice("manual", _l("when an examiner releases them"))])
    grace_seconds = IntegerField(_l("Late saves accepted for (seconds)"), default=30,
                                 validators=[Optional(), NumberRange(0, 600)])
    stagger_seconds = IntegerField(_l("Staggered start: spread over (seconds, 0 = off)"),
                                   default=0, validators=[Optional(), NumberRange(0, 600)])
    allowed_networks = TextAreaField(_l("Exam-centre networks (optional, one range a line, "
                                        "e.g. 10.1.0.0/16)"),
                                     validators=[Optional(), Length(max=2000)])


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


def _one_newline(text):
    # Browsers send a line break as CR LF but count it as one character against maxlength:
    # counted as two here, a reason that fitted in the box was refused.
    return text.replace("\r\n", "\n") if isinstance(text, str) else text


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), filters=[_one_newline],
                           render_kw={"rows": 2, "maxlength": 500},
                           validators=[DataRequired(), Length(max=500)])


class AppealForm(FlaskForm):
    reason = TextAreaField(_l("Why do you appeal?"), filters=[_one_newline],
                           render_kw={"rows": 4, "maxlength": 4000},
                           validators=[DataRequired(), Length(max=4000)])


class AccommodationForm(FlaskForm):
    extra_minutes = IntegerField(_l("Extra minutes"), default=0,
                                 validators=[InputRequired(), NumberRange(0, 24 * 60)])
    time_multiplier = DecimalField(_l("Time multiplier"), default=1, places=2,
                                   validators=[InputRequired(), NumberRange(1, 4)])
    opens_at = DateTimeLocalField(_l("Own window opens (UTC, optional)"),
                                  format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Own window closes (UTC, optional)"),
                                   format="%Y-%m-%dT%H:%M", validators=[Optional()])


class RegradeForm(FlaskForm):
    question_version_id = IntegerField(_l("Question version (id) drawn in the attempts"),
                                       validators=[InputRequired()])
    key_version_id = IntegerField(_l("Version (id) with the corrected key"),
                                  validators=[InputRequired()])
    fingerprint = HiddenField()
