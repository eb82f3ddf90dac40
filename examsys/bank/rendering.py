"""Question text: a safe subset of Markdown and HTML, formulas left for KaTeX.

Markdown is rendered by markdown-it (CommonMark) and the result cleaned by nh3 (Ammonia):
whatever an author or an import writes, no script, style, event handler or foreign
image reaches a page. Formulas are kept out of Markdown's way (``a_1*b_2`` is not
emphasis) and rendered in the browser by the vendored KaTeX (static/bank_math.js).
"""

import re
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

_md = MarkdownIt("commonmark", {"html": True, "breaks": True}).enable("table")

TAGS = {"p", "br", "em", "strong", "code", "pre", "ul", "ol", "li", "sub", "sup", "table",
        "thead", "tbody", "tr", "th", "td", "blockquote", "img", "span", "h3", "h4", "hr"}
ATTRIBUTES = {"img": {"src", "alt", "title", "width", "height"}, "td": {"align"},
              "th": {"align"}, "ol": {"start"}}
# Images only from the bank's own media store: no tracking pixels, no mixed content.
MEDIA_PREFIX = "/bank/media/"
_MATH = re.compile(r"\$\$.+?\$\$|\\\[.+?\\\]|\\\(.+?\\\)|(?<![\\$])\$[^$\n]+?\$", re.DOTALL)


def _media_only(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        return value if value.startswith(MEDIA_PREFIX) and ".." not in value else None
    return value


@lru_cache(maxsize=4096)
def to_html(text: str) -> str:
    """Sanitised HTML of one Markdown text (cached: question texts repeat a lot)."""
    formulas: list[str] = []

    def hold(match: re.Match) -> str:
        formulas.append(match.group(0))
        return f"\ue000{len(formulas) - 1}\ue001"

    html = _md.render(_MATH.sub(hold, text))
    html = re.sub("\ue000(\\d+)\ue001", lambda m: str(escape(formulas[int(m.group(1))])), html)
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=set(),
                     attribute_filter=_media_only, link_rel=None)


def question_html(texts, lang: str | None = None) -> Markup:
    """A text (or a bilingual mapping, shown in ``lang``) as safe HTML for a template."""
    if isinstance(texts, dict):
        from examsys.bank.types.base import localised

        texts = localised(texts, lang or "en")
    return Markup(to_html(texts or ""))  # noqa: S704 - cleaned by nh3 above
