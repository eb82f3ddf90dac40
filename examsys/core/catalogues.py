"""Keeping the message catalogues in step with the code (`examsys update-translations`)."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PACKAGE = Path(__file__).resolve().parent.parent
TRANSLATIONS = PACKAGE / "translations"


def _pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", *args],  # noqa: S603
                   cwd=PACKAGE,
                   check=True)


def blank(string) -> bool:
    """No translation: an empty msgstr, or (for a plural message) any empty form."""
    return not string or (isinstance(string, tuple) and not all(string))


def fill_english() -> None:
    """The English catalogue says what the code says: msgstr = msgid for every entry."""
    path = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalogue = read_po(f)
    catalogue.fuzzy = False
    for message in catalogue:
        if message.id and blank(message.string):
            message.string = message.id  # a plural message: (singular, plural), as English has
    with path.open("wb") as f:
        write_po(f, catalogue)


def untranslated(lang: str) -> list[str]:
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return [m.id for m in read_po(f) if m.id and (blank(m.string) or m.fuzzy)]


def update() -> list[str]:
    """Extract, merge into both catalogues, fill English, compile; return what zh lacks."""
    _pybabel("extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext", "-o",
             "translations/messages.pot", "--no-location", "--omit-header", "--sort-output", ".")
    # Messages gone from the code leave the catalogues too (kept, they only look unfinished).
    _pybabel("update", "-i", "translations/messages.pot", "-d", "translations",
             "--no-fuzzy-matching", "--ignore-obsolete")
    fill_english()
    _pybabel("compile", "-d", "translations")
    return untranslated("zh")
