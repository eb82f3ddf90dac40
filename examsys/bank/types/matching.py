"""Matching: pair each prompt with its match (e.g. cathode material → crystal structure)."""

import random

from examsys.bank.types.base import (
    DISPLAY_IDS,
    QuestionType,
    ResponseError,
    localised,
    read_texts,
)
from examsys.bank.types.choice import read_id
from examsys.core.i18n import _

MIN_PAIRS, MAX_PAIRS, MAX_DISTRACTORS = 2, 12, 6


class Matching(QuestionType):
    """Prompts are shown numbered (1, 2, …), matches and distractors lettered (A, B, …),
    both in the attempt's order. The response maps prompt numbers to letters; each
    correct pair earns an equal share."""

    name = "matching"
    fields = ("pairs", "distractors")

    def validate(self, q, problems):
        pairs, distractors, seen = [], [], set()
        raw = q.get("pairs")
        if not isinstance(raw, list) or not MIN_PAIRS <= len(raw) <= MAX_PAIRS:
            problems.at(q, "pairs", _("give between %(lo)d and %(hi)d pairs",
                                      lo=MIN_PAIRS, hi=MAX_PAIRS))
            raw = []
        for i, item in enumerate(raw):
            line = q.line_of(f"pairs[{i}]")
            if not isinstance(item, dict):
                problems.add(line, f"pairs[{i}]", _("must be a mapping with id, prompt and "
                                                    "match"))
                continue
            pairs.append({"id": read_id(item.get("id"), f"pairs[{i}].id", seen, problems, line),
                          "prompt": read_texts(item.get("prompt"), f"pairs[{i}].prompt",
                                               problems, line) or {},
                          "match": read_texts(item.get("match"), f"pairs[{i}].match",
                                              problems, line) or {}})
        raw = q.get("distractors") or []
        if not isinstance(raw, list) or len(raw) > MAX_DISTRACTORS:
            problems.at(q, "distractors", _("give at most %(n)d extra matches",
                                            n=MAX_DISTRACTORS))
            raw = []
        for i, item in enumerate(raw):
            line = q.line_of(f"distractors[{i}]")
            if not isinstance(item, dict):
                problems.add(line, f"distractors[{i}]", _("must be a mapping with id and text"))
                continue
            distractors.append({
                "id": read_id(item.get("id"), f"distractors[{i}].id", seen, problems, line),
                "text": read_texts(item.get("text"), f"distractors[{i}].text", problems,
                                   line) or {}})
        return {"pairs": pairs, "distractors": distractors}

    def texts(self, payload):
        out = []
        for i, p in enumerate(payload["pairs"]):
            out += [(f"pairs[{i}].prompt", p["prompt"]), (f"pairs[{i}].match", p["match"])]
        out += [(f"distractors[{i}].text", d["text"])
                for i, d in enumerate(payload.get("distractors", []))]
        return out

    def shuffle(self, payload, rng, shuffle):
        """``[prompt ids, match ids]``; matches are always shuffled (in authored order they
        would line up with their prompts)."""
        prompts = [p["id"] for p in payload["pairs"]]
        matches = prompts + [d["id"] for d in payload.get("distractors", [])]
        rng = rng or random.Random(0)  # the preview's stable order
        if shuffle:
            rng.shuffle(prompts)
        rng.shuffle(matches)
        return [prompts, matches]

    def present(self, payload, order, lang):
        prompts, matches = order
        pairs = {p["id"]: p for p in payload["pairs"]}
        texts = {pid: p["match"] for pid, p in pairs.items()}
        texts.update({d["id"]: d["text"] for d in payload.get("distractors", [])})
        return {"stem": localised(payload["stem"], lang),
                "prompts": [{"id": str(i + 1), "text": localised(pairs[pid]["prompt"], lang)}
                            for i, pid in enumerate(prompts)],
                "choices": [{"id": DISPLAY_IDS[i], "text": localised(texts[mid], lang)}
                            for i, mid in enumerate(matches)]}

    def parse(self, payload, order, response):
        if response is None:
            return None
        if not isinstance(response, dict):
            raise ResponseError(_("a matching answer maps prompt numbers to letters"))
        prompts, matches = order
        canonical = {}
        for shown_prompt, shown_match in response.items():
            if shown_match is None:
                continue
            if not isinstance(shown_prompt, str) or not shown_prompt.isascii() \
                    or not shown_prompt.isdigit() or len(shown_prompt) > 3 \
                    or not 1 <= int(shown_prompt) <= len(prompts):
                raise ResponseError(_("unknown prompt %(prompt)s", prompt=repr(shown_prompt)))
            if not isinstance(shown_match, str) or len(shown_match) != 1 \
                    or shown_match not in DISPLAY_IDS[:len(matches)]:
                raise ResponseError(_("unknown option %(option)s", option=repr(shown_match)))
            canonical[prompts[int(shown_prompt) - 1]] = matches[DISPLAY_IDS.index(shown_match)]
        return canonical or None

    def display(self, order, canonical):
        if canonical is None:
            return None
        prompts, matches = order
        return {str(prompts.index(p) + 1): DISPLAY_IDS[matches.index(m)]
                for p, m in canonical.items()}

    def grade(self, payload, canonical):
        if not canonical:
            return 0.0
        ids = [p["id"] for p in payload["pairs"]]
        return sum(canonical.get(pid) == pid for pid in ids) / len(ids)

    def key(self, payload):
        # Each prompt's match carries the pair's id.
        return {p["id"]: p["id"] for p in payload["pairs"]}

    def describe_key(self, payload, lang):
        return "; ".join(f"{localised(p['prompt'], lang)} → {localised(p['match'], lang)}"
                         for p in payload["pairs"])
