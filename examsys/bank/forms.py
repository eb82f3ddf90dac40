from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import Length


class ImportForm(FlaskForm):
    file = FileField(_l("Bank file (YAML)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["yaml", "yml"], _l("Upload a .yaml or .yml file."))])
    dry_run = BooleanField(_l("Only check, do not import"))


class WorkflowForm(FlaskForm):
    """Review actions and comments on one question (the button pressed is the action)."""

    comment = TextAreaField(_l("Comment"), validators=[Length(max=5000)])


class BulkForm(FlaskForm):
    action = SelectField(_l("With the selected questions"), choices=[
        SelectChoice("submit", _l("submit for review")), SelectChoice("retire", _l("retire")),
        SelectChoice("move", _l("move to topic"))])
    topic = SelectField(_l("Topic"), choices=[], validate_choice=False)


class MediaForm(FlaskForm):
    file = FileField(_l("Image (PNG, JPEG, GIF or WebP, at most 2 MiB)"), validators=[
        FileRequired(_l("Choose a file."))])
