"""What every question type provides."""

import random
import string
from typing import Any

from examsys.bank.yamlio import Problems
from examsys.core.i18n import _

LANGS = ("en", "zh")
DISPLAY_IDS = string.ascii_uppercase


class ResponseError(ValueError):
    """A response that does not fit the question (wrong shape or unknown option)."""


def localised(texts: dict[str, str], lang: str) -> str:
    """The text in ``lang``, else in the other shipped language."""
    lang = "zh" if lang.startswith("zh") else "en"
    return texts.get(lang) or next((texts[k] for k in LANGS if texts.get(k)), "")


def read_texts(raw: Any, field: str, problems: Problems, line: int) -> dict[str, str] | None:
    """A bilingual text: a mapping of en/zh to non-empty strings."""
    if isinstance(raw, str) and raw.strip():
        problems.add(line, field, _("give the text per language, e.g. {en: ..., zh: ...}"))
        return None
    if not isinstance(raw, dict) or not raw:
        problems.add(line, field, _("is required: a mapping of language (en, zh) to text"))
        return None
    out = {}
    for lang, text in raw.items():
        if lang not in LANGS:
            problems.add(getattr(raw, "line", line), f"{field}.{lang}",
                         _("unknown language (use en or zh)"))
        elif not isinstance(text, str | int | float) or not str(text).strip():
            problems.add(getattr(raw, "line", line), f"{field}.{lang}", _("must be non-empty text"))
        else:
            out[lang] = str(text).strip()
    return out or None


class QuestionType:
    name: str = ""
    auto_graded = True
    has_options = False
    # The authored keys this type reads besides the common ones (key, topic, stem, ...).
    fields: tuple[str, ...] = ()
    # Whether ``parse`` reads the payload (not only the option order): autosave fetches a
    # question's payload only for these types (tests hold every other type to it).
    parse_reads_payload = False

    def validate(self, raw: dict, problems: Problems) -> dict:
        """Check the type-specific part of an authored question; return the payload part."""
        raise NotImplementedError

    def shuffle(self, payload: dict, rng: random.Random, shuffle: bool) -> list[str] | None:
        """The option order of one attempt (original ids in display order), if any."""
        if not self.has_options:
            return None
        ids = [o["id"] for o in payload["options"]]
        if shuffle:
            rng.shuffle(ids)
        return ids

    def present(self, payload: dict, order: list[str] | None, lang: str) -> dict:
        """The candidate's view: never the key."""
        view: dict[str, Any] = {"stem": localised(payload["stem"], lang)}
        if self.has_options:
            by_id = {o["id"]: o for o in payload["options"]}
            view["options"] = [{"id": DISPLAY_IDS[i], "text": localised(by_id[oid]["text"], lang)}
                               for i, oid in enumerate(order)]
        return view

    def parse(self, payload: dict, order: list[str] | None, response: Any) -> Any:
        """Turn a candidate's response into canonical form; raise ResponseError if it can't be."""
        raise NotImplementedError

    def display(self, order: list[str] | None, canonical: Any) -> Any:
        """The canonical response as the candidate sent it (for resuming)."""
        return canonical

    def grade(self, payload: dict, canonical: Any) -> float:
        """The fraction of the points earned, in [0, 1]; unanswered scores 0."""
        raise NotImplementedError

    def key(self, payload: dict) -> Any:
        """The key in canonical form, for examiners."""
        raise NotImplementedError

    def model_answer(self, payload: dict) -> Any:
        """A canonical response that earns full marks (None for human-marked types)."""
        return self.key(payload)

    def texts(self, payload: dict) -> list[tuple[str, dict]]:
        """Every bilingual text besides stem and explanation, as (field, texts): the
        language check and the search index read them."""
        return [(f"options[{i}].text", o["text"]) for i, o in enumerate(payload.get("options", []))]

    def describe_key(self, payload: dict, lang: str) -> str:
        """The key as an examiner reads it."""
        key = self.key(payload)
        if self.has_options:  # under the letters of the unshuffled preview
            key = self.display([o["id"] for o in payload["options"]], key)
        if isinstance(key, bool):
            return _("True") if key else _("False")
        return ", ".join(map(str, key)) if isinstance(key, list) else str(key)


def text_response(response, limit: int, not_text: str, too_long: str) -> str | None:
    """A typed answer: None stays None; anything but text up to ``limit`` is refused."""
    if response is None:
        return None
    if not isinstance(response, str):
        raise ResponseError(not_text)
    if len(response) > limit:
        raise ResponseError(too_long)
    return response


def display_id(order: list[str], original: str) -> str:
    return DISPLAY_IDS[order.index(original)]


def original_id(order: list[str], shown: Any) -> str:
    if not isinstance(shown, str) or len(shown) != 1 or shown not in DISPLAY_IDS[: len(order)]:
        raise ResponseError(_("unknown option %(option)s", option=repr(shown)))
    return order[DISPLAY_IDS.index(shown)]
