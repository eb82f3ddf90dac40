from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class VerifyForm(FlaskForm):
    serial = StringField(_l("Certificate serial"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Holder's name"), validators=[DataRequired(), Length(max=200)])
