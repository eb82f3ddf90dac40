from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DecimalField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional


class VerifyForm(FlaskForm):
    serial = StringField(_l("Certificate serial"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Holder's name"), validators=[DataRequired(), Length(max=200)])


class BulkVerifyForm(FlaskForm):
    file = FileField(_l("CSV file (serial,name per line)"))
    text = TextAreaField(_l("…or paste the lines here"), validators=[Optional()])


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])


class RenewForm(FlaskForm):
    hours = DecimalField(_l("Continuing-education hours"),
                        validators=[DataRequired(), NumberRange(min=0, max=10000)])
    note = StringField(_l("Evidence (courses, provider)"), validators=[Length(max=500)])


class HolderDetailsForm(FlaskForm):
    name_en = StringField(_l("Name in English (as in your passport)"),
                          validators=[Optional(), Length(max=200)])
    id_number = StringField(_l("ID number (stored only hashed; shown masked)"),
                            validators=[Optional(), Length(max=40)])
