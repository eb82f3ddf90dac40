"""Essay / practical: free text marked by examiners against a rubric of criteria."""

from examsys.bank.types.base import QuestionType, localised, read_texts, text_response
from examsys.bank.types.choice import read_id
from examsys.bank.types.normalise import count_words
from examsys.core.i18n import _

MAX_CRITERIA = 12
MAX_RESPONSE_CHARS = 20_000
MAX_WORD_LIMIT = 5_000


class Essay(QuestionType):
    """Never graded automatically: ``grade`` returns None and the item waits for a marker,
    who awards points per rubric criterion. The word limit is shown to the candidate with a
    live count; a longer answer is still saved (no answer is ever lost), and markers see
    the count."""

    name = "essay"
    auto_graded = False
    fields = ("rubric", "word_limit", "model_answer")

    def validate(self, q, problems):
        rubric, seen = [], set()
        raw = q.get("rubric")
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_CRITERIA:
            problems.at(q, "rubric", _("give between %(lo)d and %(hi)d criteria",
                                       lo=1, hi=MAX_CRITERIA))
            raw = []
        for i, item in enumerate(raw):
            line = q.line_of(f"rubric[{i}]")
            if not isinstance(item, dict):
                problems.add(line, f"rubric[{i}]", _("must be a mapping with id, criterion "
                                                     "and points"))
                continue
            points = item.get("points")
            if isinstance(points, bool) or not isinstance(points, int | float) \
                    or not 0 < points <= 100:
                problems.add(line, f"rubric[{i}].points", _("must be a number above 0, at "
                                                            "most 100"))
                points = 1
            rubric.append({"id": read_id(item.get("id"), f"rubric[{i}].id", seen, problems,
                                         line),
                           "criterion": read_texts(item.get("criterion"),
                                                   f"rubric[{i}].criterion", problems,
                                                   line) or {},
                           "points": points})
        word_limit = q.get("word_limit")
        if word_limit is not None and (isinstance(word_limit, bool)
                                       or not isinstance(word_limit, int)
                                       or not 1 <= word_limit <= MAX_WORD_LIMIT):
            problems.at(q, "word_limit", _("must be a whole number from 1 to %(n)d",
                                           n=MAX_WORD_LIMIT))
            word_limit = None
        model = q.get("model_answer")
        if model is not None:
            model = read_texts(model, "model_answer", problems, q.line_of("model_answer"))
        return {"rubric": rubric, "word_limit": word_limit, "model_answer": model}

    def texts(self, payload):
        out = [(f"rubric[{i}].criterion", c["criterion"]) for i, c in
               enumerate(payload["rubric"])]
        if payload.get("model_answer"):
            out.append(("model_answer", payload["model_answer"]))
        return out

    def present(self, payload, order, lang):
        view = super().present(payload, order, lang)
        view["word_limit"] = payload.get("word_limit")
        view["max_length"] = MAX_RESPONSE_CHARS
        return view

    def parse(self, payload, order, response):
        text = text_response(response, MAX_RESPONSE_CHARS, _("an essay answer is text"),
                             _("an essay answer is at most %(n)d characters",
                               n=MAX_RESPONSE_CHARS))
        return text if text and text.strip() else None

    def grade(self, payload, canonical):
        return None

    def max_points(self, payload) -> float:
        return float(sum(c["points"] for c in payload["rubric"]))

    def key(self, payload):
        return {"rubric": payload["rubric"], "model_answer": payload.get("model_answer")}

    def model_answer(self, payload):
        return None

    def describe_key(self, payload, lang):
        text = "; ".join(f"{localised(c['criterion'], lang)} ({c['points']:g})"
                         for c in payload["rubric"])
        if payload.get("model_answer"):
            text += " — " + localised(payload["model_answer"], lang)
        return text


def word_count(text: str | None) -> int:
    return count_words(text or "")
