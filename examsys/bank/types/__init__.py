"""The question-type registry: one class per type, one interface, no branching elsewhere.

A type validates an authored payload, shows the candidate a view without the key (options
in the attempt's order, under opaque letters), turns a candidate's response into its
canonical form, and grades a canonical response to a fraction in [0, 1].
"""

from examsys.bank.types.base import QuestionType, ResponseError
from examsys.bank.types.choice import MultipleChoice, SingleChoice
from examsys.bank.types.numeric import Numeric
from examsys.bank.types.true_false import TrueFalse

REGISTRY: dict[str, QuestionType] = {
    t.name: t for t in (SingleChoice(), MultipleChoice(), TrueFalse(), Numeric())
}


def get_type(name: str) -> QuestionType:
    return REGISTRY[name]


__all__ = ["REGISTRY", "QuestionType", "ResponseError", "get_type"]
