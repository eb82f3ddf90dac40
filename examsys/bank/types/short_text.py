"""Short text: a word or phrase compared with accepted answers after normalisation, or
matched by an optional regular expression."""

import regex

from examsys.bank.types.base import QuestionType, text_response
from examsys.bank.types.normalise import normalise
from examsys.core.i18n import _

MAX_ANSWERS = 20
MAX_ANSWER_CHARS = 200
MAX_PATTERN_CHARS = 200
# A response longer than this is no short answer; the cap also bounds regex work.
MAX_RESPONSE_CHARS = 300
# The regex engine gives up after this long: a catastrophic pattern cannot stall a save.
REGEX_TIMEOUT_S = 0.05


def compile_pattern(pattern: str):
    """Compile an authored pattern (matched, case-insensitively, against the whole
    normalised response); raise ValueError for a bad one."""
    try:
        return regex.compile(pattern, regex.IGNORECASE | regex.VERSION1)
    except regex.error as exc:
        raise ValueError(str(exc)) from None


def pattern_matches(pattern: str, text: str) -> bool:
    try:
        return compile_pattern(pattern).fullmatch(text, timeout=REGEX_TIMEOUT_S) is not None
    except TimeoutError:
        return False


class ShortText(QuestionType):
    name = "short_text"
    fields = ("answers", "pattern")

    def validate(self, q, problems):
        raw = q.get("answers")
        answers: list[str] = []
        if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ANSWERS:
            problems.at(q, "answers", _("give between %(lo)d and %(hi)d accepted answers",
                                        lo=1, hi=MAX_ANSWERS))
            raw = []
        for i, answer in enumerate(raw):
            if isinstance(answer, bool) or not isinstance(answer, str | int | float) \
                    or not normalise(str(answer)):
                problems.at(q, f"answers[{i}]", _("must be non-empty text"))
            elif len(str(answer)) > MAX_ANSWER_CHARS:
                problems.at(q, f"answers[{i}]", _("must be at most %(n)d characters",
                                                  n=MAX_ANSWER_CHARS))
            else:
                answers.append(str(answer).strip())
        pattern = q.get("pattern")
        if pattern is not None:
            if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN_CHARS:
                problems.at(q, "pattern", _("must be a regular expression of at most "
                                            "%(n)d characters", n=MAX_PATTERN_CHARS))
                pattern = None
            else:
                try:
                    compile_pattern(pattern)
                except ValueError as exc:
                    problems.at(q, "pattern", _("is not a valid regular expression: "
                                                "%(why)s", why=str(exc)))
                    pattern = None
        return {"answers": answers, "pattern": pattern}

    def present(self, payload, order, lang):
        view = super().present(payload, order, lang)
        view["max_length"] = MAX_RESPONSE_CHARS
        return view

    def parse(self, payload, order, response):
        text = text_response(response, MAX_RESPONSE_CHARS, _("a short-text answer is text"),
                             _("a short-text answer is at most %(n)d characters",
                               n=MAX_RESPONSE_CHARS))
        # Kept as typed (trimmed), so examiners see what the candidate wrote.
        return (text.strip() or None) if text is not None else None

    def grade(self, payload, canonical):
        if not canonical:
            return 0.0
        given = normalise(canonical)
        if given in {normalise(a) for a in payload["answers"]}:
            return 1.0
        pattern = payload.get("pattern")
        return 1.0 if pattern and pattern_matches(pattern, given) else 0.0

    def key(self, payload):
        return list(payload["answers"])

    def model_answer(self, payload):
        return payload["answers"][0]

    def describe_key(self, payload, lang):
        text = " | ".join(payload["answers"])
        if payload.get("pattern"):
            text += "  " + _("(or matching /%(pattern)s/)", pattern=payload["pattern"])
        return text
