"""The printable certificate as a PDF: A4 landscape, Chinese and English, QR code.

Chinese needs a CJK font: WenQuanYi Micro Hei ships in the ``paperang-p2-fonts-cjk`` wheel
(so a machine with only Python can print), and only the glyphs used are embedded (fpdf2
subsets the font). ``EXAMSYS_CERT_FONT`` points at another TrueType/OpenType font.
"""

import os
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from fpdf import FPDF

from examsys import config
from examsys.certs import qr
from examsys.certs.models import Certificate
from examsys.core.labels import level_name, status_name

FALLBACK_FONTS = ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                  "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]


class FontMissing(RuntimeError):
    pass


@cache
def _packaged_font() -> str | None:
    try:
        path = resources.files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc"
    except ModuleNotFoundError:
        return None
    return str(path) if path.is_file() else None


def font_path() -> str:
    configured = current_app.config.get("CERT_FONT") or os.environ.get("EXAMSYS_CERT_FONT")
    for candidate in [configured, _packaged_font(), *FALLBACK_FONTS]:
        if candidate and Path(candidate).is_file():
            return candidate
    raise FontMissing("No CJK font found: pip install paperang-p2-fonts-cjk, or set "
                      "EXAMSYS_CERT_FONT to a TrueType font with Chinese glyphs.")


# The certificate prints every label in both languages, whoever asks for it: the words
# come from the catalogues like every other string, read once in each language.
TITLE = _l("Certificate")
CERTIFY = _l("This is to certify that")
PASSED = _l("has passed the examination for")
SERIAL, ISSUED, VALID_UNTIL = _l("Serial"), _l("Issued"), _l("Valid until")
ID_NUMBER = _l("ID number")
SCAN = _l("Scan or visit to verify:")


def _both(fn, code: str) -> tuple[str, str]:
    with force_locale("zh_CN"):
        zh = fn(code)
    with force_locale("en"):
        en = fn(code)
    return zh, en


def _words(message) -> tuple[str, str]:
    """A catalogue message in Chinese and in English."""
    return _both(str, message)


def _pair(message, joiner: str = " / ") -> str:
    return joiner.join(_words(message))


def render(cert: Certificate, verify_url: str, now: datetime) -> bytes:
    """The certificate as PDF bytes. A certificate not in force says so across the top."""
    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_title(f"Certificate {cert.serial}")
    pdf.set_author(current_app.config["ISSUER_NAME"])
    pdf.set_creator("examsys")
    pdf.set_creation_date(cert.issued_at)
    pdf.add_font("cjk", "", font_path())
    pdf.set_auto_page_break(False)
    pdf.add_page()
    width = pdf.w

    pdf.set_draw_color(30, 70, 120)
    pdf.set_line_width(1.2)
    pdf.rect(8, 8, width - 16, pdf.h - 16)
    pdf.set_line_width(0.3)
    pdf.rect(11, 11, width - 22, pdf.h - 22)

    status = cert.status(now)
    if status != "valid":
        zh, en = _both(status_name, status)
        pdf.set_text_color(180, 0, 0)
        pdf.set_font("cjk", size=14)
        pdf.set_xy(0, 14)
        pdf.cell(width, 8, f"{zh} · {en.upper()}", align="C")

    def line(text: str, size: float, y: float, color=(20, 20, 20)):
        pdf.set_text_color(*color)
        pdf.set_font("cjk", size=size)
        pdf.set_xy(20, y)
        pdf.cell(width - 40, size * 0.5, text, align="C")

    c = cert.certification
    level_zh, level_en = _both(level_name, c.level)
    issuer_zh, issuer_en = config.issuer_names(current_app.config)
    line(issuer_en if issuer_zh == issuer_en else f"{issuer_zh} · {issuer_en}", 13, 24,
         (30, 70, 120))
    title_zh, title_en = _words(TITLE)
    line("  ".join(title_zh), 34, 36, (30, 70, 120))  # spaced out, as a title is set
    line(title_en.upper(), 16, 55, (30, 70, 120))
    line(_pair(CERTIFY), 12, 70, (80, 80, 80))
    line(cert.holder_name, 30, 80)
    if cert.holder_name_en:
        line(cert.holder_name_en, 16, 97)
    line(_pair(PASSED), 12, 110, (80, 80, 80))
    line(c.name_zh, 20, 120)
    line(c.name_en, 14, 132)
    line(f"{level_zh} / {level_en}", 12, 142, (60, 60, 60))

    rows = [(_pair(SERIAL, " "), cert.serial),
            (_pair(ISSUED, " "), cert.issued_at.strftime("%Y-%m-%d")),
            (_pair(VALID_UNTIL, " "), cert.expires_at.strftime("%Y-%m-%d"))]
    if cert.id_number_masked:
        rows.append((_pair(ID_NUMBER, " "), cert.id_number_masked))
    pdf.set_text_color(20, 20, 20)
    y = 156
    for label, value in rows:
        pdf.set_font("cjk", size=10)
        pdf.set_xy(24, y)
        pdf.cell(48, 6, label)
        pdf.set_font("cjk", size=11)
        pdf.cell(80, 6, value)
        y += 7

    _draw_qr(pdf, verify_url, x=width - 62, y=146, size=40)
    pdf.set_font("cjk", size=7)
    pdf.set_text_color(60, 60, 60)
    pdf.set_xy(width - 130, 188)
    pdf.cell(108, 4, _pair(SCAN), align="R")
    pdf.set_xy(width - 200, 192)
    pdf.cell(178, 4, verify_url, align="R")
    return bytes(pdf.output())


def _draw_qr(pdf: FPDF, url: str, *, x: float, y: float, size: float) -> None:
    matrix = qr.modules(url)
    cell = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            # One rectangle per run of dark modules keeps the PDF small.
            pdf.rect(x + start * cell, y + r * cell, (c - start) * cell, cell, style="F")
