"""True/false."""

from examsys.bank.types.base import QuestionType, ResponseError
from examsys.core.i18n import _


class TrueFalse(QuestionType):
    name = "true_false"
    fields = ("answer",)

    def validate(self, q, problems):
        answer = q.get("answer")
        if not isinstance(answer, bool):
            problems.at(q, "answer", _("must be true or false"))
        return {"answer": answer is True}

    def parse(self, payload, order, response):
        if response is None or isinstance(response, bool):
            return response
        raise ResponseError(_("a true/false answer is true or false"))

    def grade(self, payload, canonical):
        return 1.0 if canonical is not None and canonical == payload["answer"] else 0.0

    def key(self, payload):
        return payload["answer"]
