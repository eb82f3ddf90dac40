from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField


class ImportForm(FlaskForm):
    file = FileField(_l("Bank file (YAML)"), validators=[
        FileRequired(_l("Choose a file.")),
        FileAllowed(["yaml", "yml"], _l("Upload a .yaml or .yml file."))])
    dry_run = BooleanField(_l("Only check, do not import"))
