"""Forms of the interchange pages: import (with its duplicate confirmation) and export."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
)
from wtforms.validators import NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from examsys.bank.models import LEVELS, Status

UPLOAD_EXTENSIONS = ["gift", "txt", "xml", "csv", "xlsx", "yaml", "yml"]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _formats():
    return [SelectChoice("auto", _l("By the file's extension")),
            SelectChoice("gift", "Moodle GIFT"), SelectChoice("moodle_xml", "Moodle XML"),
            SelectChoice("csv", "CSV"), SelectChoice("xlsx", "Excel (XLSX)"),
            SelectChoice("yaml", "examsys YAML")]


class InterchangeImportForm(FlaskForm):
    file = FileField(_l("File (GIFT, Moodle XML, CSV, XLSX or YAML)"), validators=[
        FileAllowed(UPLOAD_EXTENSIONS, _l("Upload a .gift, .txt, .xml, .csv, .xlsx or "
                                          ".yaml file."))])
    format = SelectField(_l("Format"), choices=_formats(), default="auto")
    topic = SelectField(_l("Topic for questions without a category"), choices=[],
                        default="")
    levels = MultiCheckboxField(_l("Levels for questions that name none"),
                                choices=[SelectChoice(lv) for lv in LEVELS])
    difficulty = IntegerField(_l("Difficulty (1–5) for questions that name none"), default=3,
                              validators=[NumberRange(1, 5)])
    status = SelectField(_l("Status of imported questions"), default=Status.DRAFT.value,
                         choices=[SelectChoice(s.value) for s in Status])
    lang = SelectField(_l("Language of GIFT and Moodle XML texts"), default="auto",
                       choices=[SelectChoice("auto", _l("Detect (Chinese characters → zh)")),
                                SelectChoice("en", "English"), SelectChoice("zh", "中文")])
    encoding = SelectField(_l("Encoding of GIFT and CSV files"), default="utf-8",
                           choices=[SelectChoice("utf-8", "UTF-8"),
                                    SelectChoice("gb18030", "GB18030 / GBK"),
                                    SelectChoice("utf-16", "UTF-16")])
    dry_run = BooleanField(_l("Only check, do not import"))
    # The confirmation step carries the checked file back, so app servers keep no state.
    upload = HiddenField(validators=[Optional()])
    upload_name = HiddenField(validators=[Optional()])
    confirmed = HiddenField(validators=[Optional()])
    allow_duplicates = BooleanField(_l("I have checked these questions: import them anyway"))


class ExportForm(FlaskForm):
    class Meta:
        csrf = False  # a GET download that changes nothing

    format = SelectField(_l("Format"), choices=[SelectChoice("gift", "Moodle GIFT"),
                                                SelectChoice("moodle_xml", "Moodle XML")])
    lang = SelectField(_l("Language"), choices=[SelectChoice("en", "English"),
                                                SelectChoice("zh", "中文")])
    topic = SelectField(_l("Topic"), choices=[], default="")
    status = SelectField(_l("Status"), default="",
                         choices=[SelectChoice("", _l("Any"))]
                         + [SelectChoice(s.value) for s in Status])
