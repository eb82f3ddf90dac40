from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=10,
                                                                                    max=200)])
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[DataRequired(), EqualTo("password",
                                                                _l("The passwords differ."))])


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=[SelectChoice("zh_CN", "简体中文"),
                                                     SelectChoice("en", "English")])
