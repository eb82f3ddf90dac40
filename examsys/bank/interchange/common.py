"""What every interchange format shares: import options, the parsed item, reading bytes
safely, telling Chinese from English, and turning Moodle's HTML into bank text."""

import hashlib
import html
import re
import unicodedata
from dataclasses import dataclass, field

from examsys.bank.yamlio import Problem
from examsys.core.i18n import _

# Bigger than a YAML bank file may be: a Moodle export of 2,000 questions with HTML markup
# runs to a few MiB. The web upload limit (MAX_CONTENT_LENGTH) is stricter still.
MAX_FILE_BYTES = 16 * 1024 * 1024
MAX_QUESTIONS = 10_000
LANG_CHOICES = ("auto", "en", "zh")

# Han, kana, Hangul and CJK punctuation: text holding any of these is taken as Chinese.
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\u3000-\u303f]")
# C0 controls other than tab, newline and carriage return never occur in a text file.
_BINARY = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class ImportOptions:
    """Defaults for what the foreign formats cannot say (see docs/interchange.md)."""

    topic: str | None = None          # topic path for items without a category
    levels: list[str] = field(default_factory=list)
    difficulty: int = 3
    status: str = "draft"             # foreign items go through review unless told otherwise
    lang: str = "auto"                # auto: zh when the stem holds CJK characters, else en
    key_prefix: str = "IMP"
    encoding: str = "utf-8"           # for GIFT and CSV; XML declares its own


@dataclass
class Item:
    """One question read from a foreign file, in the native YAML shape, before validation.

    ``fields`` holds what the file said (type, stem, options, ...); ``meta`` what examsys
    itself wrote on export (key, topic, levels, ...), which wins over the import options.
    """

    line: int
    fields: dict
    title: str | None = None
    category: list[str] | None = None
    key: str | None = None
    meta: dict = field(default_factory=dict)


@dataclass
class Parsed:
    items: list[Item] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Meaning the bank cannot hold (per-answer feedback, partial weights): reported, not fatal.
    warnings: list[Problem] = field(default_factory=list)
    # The file itself could not be read (too big, not text, not XML, a DTD): a 400, not a 422.
    unreadable: bool = False


def decode(name: str, data: bytes, encoding: str, problems: list[Problem]) -> str | None:
    """Bytes of a text format as text, or None with a problem (too big, undecodable, binary)."""
    if len(data) > MAX_FILE_BYTES:
        problems.append(Problem(name, 0, "", _("file is larger than %(n)d MiB",
                                                n=MAX_FILE_BYTES // (1024 * 1024))))
        return None
    try:
        text = data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in (
            "utf-8", "utf8") else encoding)
    except LookupError:
        problems.append(Problem(name, 0, "", _("unknown encoding %(enc)s", enc=repr(encoding))))
        return None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.append(Problem(name, line, "", _(
            "not %(enc)s text (byte %(n)d): save the file as UTF-8, or name its encoding "
            "(e.g. gb18030)", enc=encoding, n=exc.start)))
        return None
    if match := _BINARY.search(text):
        line = text.count("\n", 0, match.start()) + 1
        problems.append(Problem(name, line, "", _("this is not a text file (control "
                                                   "character U+%(code)04X)",
                                                   code=ord(match.group()))))
        return None
    return text


def detect_lang(text: str, wanted: str) -> str:
    if wanted in ("en", "zh"):
        return wanted
    return "zh" if _CJK.search(text or "") else "en"


def normalise_stem(text: str) -> str:
    """The form in which two stems count as the same: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def derived_key(prefix: str, stem: str) -> str:
    """A key that stays the same for the same stem, so re-importing a file updates in place."""
    digest = hashlib.sha256(normalise_stem(stem).encode()).hexdigest()[:10].upper()
    return f"{prefix}-{digest}"


def slug(name: str) -> str:
    """A topic key ([a-z0-9_], at most 40) for a category name; a hash for names without
    Latin letters or digits (e.g. Chinese)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:40].strip("_")
    return text or "t_" + hashlib.sha256(name.encode()).hexdigest()[:8]


_BLOCK = re.compile(r"</?(p|div|br|li|ul|ol|h[1-6]|tr|table)\b[^>]*>", re.IGNORECASE)
_SIMPLE_TAG = re.compile(r"</?(p|div|br|span|font)\b[^>]*>", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[a-zA-Z/!][^>]*>")
_RICH = re.compile(r"<(img|table|sub|sup|a|ul|ol|pre|code|strong|b|em|i|u|math)\b",
                   re.IGNORECASE)


def looks_like_html(text: str) -> bool:
    return bool(_ANY_TAG.search(text or ""))


def from_html(text: str) -> str:
    """Moodle's HTML as bank text: paragraph markup becomes plain lines; HTML with more
    than paragraphs (images, tables, emphasis) is kept as HTML, which the bank sanitises
    when it renders."""
    if _RICH.search(text):
        return text.strip()
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    text = re.sub(r"</(p|div)>\s*<(p|div)\b[^>]*>", "\n\n", text, flags=re.IGNORECASE)
    text = _SIMPLE_TAG.sub("", text)
    text = html.unescape(text)
    return "\n".join(line.strip() for line in text.strip().splitlines()).strip()


def to_html(text: str, paragraphs: bool = True) -> str:
    """Bank text for a format that wants HTML: markup kept, plain lines into paragraphs
    (or, for short texts such as options, just escaped)."""
    if looks_like_html(text):
        return text
    if not paragraphs and "\n" not in text:
        return html.escape(text, quote=False)
    parts = re.split(r"\n\s*\n", text.strip())
    return "".join("<p>" + html.escape(p, quote=False).replace("\n", "<br>") + "</p>"
                   for p in parts)


def is_block_html(text: str) -> bool:
    return bool(_BLOCK.search(text))
