"""The authoring form: one WTForms form for every type, converted to and from the YAML
shape, so a question written in the browser passes exactly the checks an import does."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from examsys.bank.models import LEVELS
from examsys.bank.types import REGISTRY
from examsys.bank.validation import QuestionRecord, read_question
from examsys.bank.yamlio import LineDict, LineList, Problems
from examsys.core.labels import level_name, type_name

LISTS = ("options", "pairs", "distractors", "rubric")
MAX_ENTRIES = {"options": 10, "pairs": 12, "distractors": 6, "rubric": 12}


class OptionForm(Form):
    id = StringField(_l("ID"), validators=[Optional(), Length(max=16)])
    text_en = StringField(_l("Text (English)"), validators=[Optional(), Length(max=2000)])
    text_zh = StringField(_l("Text (Chinese)"), validators=[Optional(), Length(max=2000)])
    correct = BooleanField(_l("Correct"))


class PairForm(Form):
    id = StringField(_l("ID"), validators=[Optional(), Length(max=16)])
    prompt_en = StringField(_l("Item (English)"), validators=[Optional(), Length(max=2000)])
    prompt_zh = StringField(_l("Item (Chinese)"), validators=[Optional(), Length(max=2000)])
    match_en = StringField(_l("Match (English)"), validators=[Optional(), Length(max=2000)])
    match_zh = StringField(_l("Match (Chinese)"), validators=[Optional(), Length(max=2000)])


class CriterionForm(Form):
    id = StringField(_l("ID"), validators=[Optional(), Length(max=16)])
    criterion_en = StringField(_l("Criterion (English)"),
                               validators=[Optional(), Length(max=2000)])
    criterion_zh = StringField(_l("Criterion (Chinese)"),
                               validators=[Optional(), Length(max=2000)])
    points = StringField(_l("Points"), validators=[Optional(), Length(max=10)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QuestionForm(FlaskForm):
    key = StringField(_l("Question ID"), validators=[InputRequired(), Length(max=64)])
    type = HiddenField()
    topic = SelectField(_l("Topic"), validators=[InputRequired()])
    levels = MultiCheckboxField(_l("Levels"))
    difficulty = IntegerField(_l("Difficulty (1 easy – 5 hard)"), default=3,
                              validators=[InputRequired(), NumberRange(1, 5)])
    tags = StringField(_l("Tags (comma-separated)"), validators=[Length(max=300)])
    reference = StringField(_l("Reference (standard and clause)"),
                            validators=[Length(max=300)])
    stem_en = TextAreaField(_l("Stem (English)"), validators=[Length(max=20000)])
    stem_zh = TextAreaField(_l("Stem (Chinese)"), validators=[Length(max=20000)])
    explanation_en = TextAreaField(_l("Explanation (English)"), validators=[Length(max=20000)])
    explanation_zh = TextAreaField(_l("Explanation (Chinese)"), validators=[Length(max=20000)])
    options = FieldList(FormField(OptionForm), min_entries=0)
    scoring = SelectField(_l("Scoring"), choices=[
        SelectChoice("", _l("default")), SelectChoice("all_or_nothing", _l("all or nothing")),
        SelectChoice("partial", _l("partial credit"))], default="", validators=[Optional()])
    answer = StringField(_l("Answer"), validators=[Length(max=50)])
    tolerance_kind = SelectField(_l("Tolerance"), choices=[
        SelectChoice("absolute", _l("absolute (± in the unit)")),
        SelectChoice("relative", _l("relative (fraction, 0.01 = 1 %)"))], default="absolute")
    tolerance = StringField(_l("Tolerance amount"), validators=[Length(max=30)])
    unit = StringField(_l("Unit"), validators=[Length(max=20)])
    units = StringField(_l("Accepted units (e.g. Ah, mAh — or kcycles=1000; empty: all of "
                           "the same kind)"), validators=[Length(max=400)])
    answers = TextAreaField(_l("Accepted answers (one per line)"),
                            validators=[Length(max=5000)])
    pattern = StringField(_l("Regular expression (optional)"), validators=[Length(max=200)])
    pairs = FieldList(FormField(PairForm), min_entries=0)
    distractors = FieldList(FormField(OptionForm), min_entries=0)
    rubric = FieldList(FormField(CriterionForm), min_entries=0)
    word_limit = IntegerField(_l("Word limit"), validators=[Optional(), NumberRange(1, 5000)])
    model_answer_en = TextAreaField(_l("Model answer for markers (English)"),
                                    validators=[Length(max=20000)])
    model_answer_zh = TextAreaField(_l("Model answer for markers (Chinese)"),
                                    validators=[Length(max=20000)])

    def set_choices(self, topics, lang: str) -> None:
        self.topic.choices = [SelectChoice(t.path, "— " * t.path.count("/") + t.name(lang))
                              for t in topics]
        self.levels.choices = [SelectChoice(lv, level_name(lv)) for lv in LEVELS]

    @property
    def type_label(self) -> str:
        return type_name(self.type.data)


def _texts(en: str | None, zh: str | None) -> dict:
    return {k: v.strip() for k, v in (("en", en or ""), ("zh", zh or "")) if v.strip()}


def _number(raw: str | None):
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        return raw  # left for the type's check to report
    return int(value) if value.is_integer() and "." not in raw else value


def _lines(items: list[dict]) -> LineList:
    out = LineList()
    for item in items:
        entry = LineDict(item)
        out.append(entry)
    return out


def authored(form: QuestionForm) -> LineDict:
    """The form as the YAML shape bank.validation reads."""
    qtype = form.type.data
    raw = {"key": (form.key.data or "").strip(), "topic": form.topic.data, "type": qtype,
           "levels": list(form.levels.data or []), "difficulty": form.difficulty.data,
           "status": "draft",
           "tags": [t.strip() for t in (form.tags.data or "").split(",") if t.strip()],
           "reference": (form.reference.data or "").strip() or None,
           "stem": _texts(form.stem_en.data, form.stem_zh.data)}
    explanation = _texts(form.explanation_en.data, form.explanation_zh.data)
    if explanation:
        raw["explanation"] = explanation
    fields = REGISTRY[qtype].fields if qtype in REGISTRY else ()
    if "options" in fields:
        raw["options"] = _lines(
            {"id": o.id.data, "text": _texts(o.text_en.data, o.text_zh.data),
             **({"correct": o.correct.data} if qtype != "ordering" else {})}
            for o in (e.form for e in form.options))
    if "scoring" in fields and form.scoring.data:
        raw["scoring"] = form.scoring.data
    if "answer" in fields:
        if qtype == "true_false":
            raw["answer"] = {"true": True, "false": False}.get(
                (form.answer.data or "").strip().lower(), form.answer.data)
        else:
            raw["answer"] = _number(form.answer.data)
    if "tolerance" in fields:
        raw["tolerance"] = {form.tolerance_kind.data: _number(form.tolerance.data) or 0}
    if "unit" in fields and (form.unit.data or "").strip():
        raw["unit"] = form.unit.data.strip()
    if "units" in fields and (form.units.data or "").strip():
        parts = [p.strip() for p in form.units.data.split(",") if p.strip()]
        if any("=" in p for p in parts):
            raw["units"] = {p.split("=", 1)[0].strip(): _number(p.split("=", 1)[1])
                            for p in parts if "=" in p}
        else:
            raw["units"] = parts
    if "answers" in fields:
        raw["answers"] = [a.strip() for a in (form.answers.data or "").splitlines()
                          if a.strip()]
        if (form.pattern.data or "").strip():
            raw["pattern"] = form.pattern.data.strip()
    if "pairs" in fields:
        raw["pairs"] = _lines({"id": p.id.data,
                               "prompt": _texts(p.prompt_en.data, p.prompt_zh.data),
                               "match": _texts(p.match_en.data, p.match_zh.data)}
                              for p in (e.form for e in form.pairs))
        raw["distractors"] = _lines({"id": d.id.data,
                                     "text": _texts(d.text_en.data, d.text_zh.data)}
                                    for d in (e.form for e in form.distractors))
    if "rubric" in fields:
        raw["rubric"] = _lines({"id": c.id.data,
                                "criterion": _texts(c.criterion_en.data, c.criterion_zh.data),
                                "points": _number(c.points.data)}
                               for c in (e.form for e in form.rubric))
        if form.word_limit.data:
            raw["word_limit"] = form.word_limit.data
        model = _texts(form.model_answer_en.data, form.model_answer_zh.data)
        if model:
            raw["model_answer"] = model
    q = LineDict(raw)
    q.line = 0
    return q


def check(form: QuestionForm) -> tuple[QuestionRecord | None, list[str]]:
    """The validated record, or the problems as ``field: message`` lines."""
    from examsys.bank.validation import BankDocument

    problems = Problems("form")
    doc = BankDocument()
    read_question(authored(form), "form", doc, problems)
    messages = [f"{p.field.split('.', 1)[-1] if '.' in p.field else p.field}: {p.message}"
                for p in problems.items]
    return (doc.questions[0] if doc.questions and not messages else None), messages


def fill(form: QuestionForm, question, version) -> None:
    """Load a version into an unsubmitted form (for editing)."""
    p = version.payload
    form.key.data, form.type.data = question.external_key, version.type
    form.topic.data, form.levels.data = question.topic.path, question.level_codes
    form.difficulty.data = version.difficulty
    form.tags.data = ", ".join(version.tags or [])
    form.reference.data = version.reference or ""
    form.stem_en.data, form.stem_zh.data = p["stem"].get("en", ""), p["stem"].get("zh", "")
    exp = p.get("explanation") or {}
    form.explanation_en.data, form.explanation_zh.data = exp.get("en", ""), exp.get("zh", "")
    for o in p.get("options", []):
        form.options.append_entry({"id": o["id"], "text_en": o["text"].get("en", ""),
                                   "text_zh": o["text"].get("zh", ""),
                                   "correct": o.get("correct", False)})
    form.scoring.data = p.get("scoring") or ""
    if "answer" in p:
        form.answer.data = str(p["answer"]).lower() if isinstance(p["answer"], bool) \
            else f"{p['answer']:g}"
    if p.get("tolerance"):
        (kind, amount), = p["tolerance"].items()
        form.tolerance_kind.data, form.tolerance.data = kind, f"{amount:g}"
    form.unit.data = p.get("unit") or ""
    if p.get("units"):
        form.units.data = ", ".join(f"{u}={f:g}" for u, f in p["units"].items())
    form.answers.data = "\n".join(p.get("answers", []))
    form.pattern.data = p.get("pattern") or ""
    for pair in p.get("pairs", []):
        form.pairs.append_entry({"id": pair["id"],
                                 "prompt_en": pair["prompt"].get("en", ""),
                                 "prompt_zh": pair["prompt"].get("zh", ""),
                                 "match_en": pair["match"].get("en", ""),
                                 "match_zh": pair["match"].get("zh", "")})
    for d in p.get("distractors", []):
        form.distractors.append_entry({"id": d["id"], "text_en": d["text"].get("en", ""),
                                       "text_zh": d["text"].get("zh", "")})
    for c in p.get("rubric", []):
        form.rubric.append_entry({"id": c["id"], "criterion_en": c["criterion"].get("en", ""),
                                  "criterion_zh": c["criterion"].get("zh", ""),
                                  "points": f"{c['points']:g}"})
    form.word_limit.data = p.get("word_limit")
    model = p.get("model_answer") or {}
    form.model_answer_en.data, form.model_answer_zh.data = model.get("en", ""), \
        model.get("zh", "")


def starter(form: QuestionForm) -> None:
    """Empty rows a new question of its type starts with."""
    qtype = form.type.data
    fields = REGISTRY[qtype].fields
    if "options" in fields:
        for i in range(4):
            form.options.append_entry({"id": "abcd"[i]})
    if "pairs" in fields:
        for i in range(3):
            form.pairs.append_entry({"id": f"p{i + 1}"})
    if "rubric" in fields:
        form.rubric.append_entry({"id": "c1", "points": "1"})


def add_or_remove(form: QuestionForm, submitted: dict) -> bool:
    """Handle an "add row" / "remove row" button: ``add:<list>`` or ``remove:<list>:<i>``.

    Returns True when one was pressed (the form is then shown again, nothing saved)."""
    for name in submitted:
        parts = name.split(":")
        if parts[0] == "add" and len(parts) == 2 and parts[1] in LISTS:
            entries = getattr(form, parts[1])
            if len(entries) < MAX_ENTRIES[parts[1]]:
                prefix = {"options": "o", "pairs": "p", "distractors": "x", "rubric": "c"}
                entries.append_entry({"id": f"{prefix[parts[1]]}{len(entries) + 1}"})
            return True
        if parts[0] == "remove" and len(parts) == 3 and parts[1] in LISTS \
                and parts[2].isdigit():
            entries = getattr(form, parts[1])
            index = int(parts[2])
            if 0 <= index < len(entries):
                entries.entries.pop(index)
            return True
    return False
