"""Normalising short free-text answers in Chinese and English before comparing them."""

import re
import unicodedata

# Han, kana, Hangul and CJK punctuation: scripts written without spaces between words.
_CJK = r"\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_SPACE_NEAR_CJK = re.compile(rf"\s+(?=[{_CJK}])|(?<=[{_CJK}])\s+")
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Fold width (NFKC: ＡＢＣ１２３ → ABC123, full-width punctuation → ASCII), case
    (casefold, so ß matches ss) and whitespace (runs collapse to one space; spaces next
    to Chinese characters vanish, since Chinese is written without them)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _SPACES.sub(" ", text).strip()
    return _SPACE_NEAR_CJK.sub("", text)


def count_words(text: str) -> int:
    """Words as a marker counts them: each Chinese character is one, as are Latin words."""
    text = unicodedata.normalize("NFKC", text)
    return len(_HAN.findall(text)) + len(_WORD.findall(text))


_HAN = re.compile(r"[\u2e80-\u2fff\u3040-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"(?:(?![\u2e80-\u9fff\uf900-\ufaff])\w)+")
