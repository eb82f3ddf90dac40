"""The question-type registry: one class per type, one interface, no branching elsewhere.

A type validates an authored payload, shows the candidate a view without the key (options
in the attempt's order, under opaque letters), turns a candidate's response into its
canonical form, and grades a canonical response to a fraction in [0, 1] (or None for a
type that people mark: ``auto_graded = False``).
"""

from examsys.bank.types.base import QuestionType, ResponseError
from examsys.bank.types.choice import MultipleChoice, SingleChoice
from examsys.bank.types.essay import Essay
from examsys.bank.types.matching import Matching
from examsys.bank.types.numeric import Numeric
from examsys.bank.types.numeric_unit import NumericUnit
from examsys.bank.types.ordering import Ordering
from examsys.bank.types.short_text import ShortText
from examsys.bank.types.true_false import TrueFalse

REGISTRY: dict[str, QuestionType] = {
    t.name: t for t in (SingleChoice(), MultipleChoice(), TrueFalse(), Numeric(), ShortText(),
                        Ordering(), Matching(), Essay(), NumericUnit())
}


def get_type(name: str) -> QuestionType:
    return REGISTRY[name]


__all__ = ["REGISTRY", "QuestionType", "ResponseError", "get_type"]
