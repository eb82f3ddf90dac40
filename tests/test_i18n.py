"""Both languages ship complete, and the right one is chosen."""

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import examsys
from examsys.accounts.models import User
from examsys.core.catalogues import blank
from examsys.extensions import db

from .conftest import csrf_from, login_page

PACKAGE = Path(examsys.__file__).parent
CATALOGUES = PACKAGE / "translations"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%%")


def source_messages() -> set[str]:
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map, keywords=keywords):
        found.add(message if isinstance(message, str) else message[0])
    return found - {""}


def catalogue(lang: str):
    with open(CATALOGUES / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f)


def test_every_message_in_the_code_is_translated_into_chinese_and_english():
    wanted = source_messages()
    assert len(wanted) > 200
    for lang in ("zh", "en"):
        po = catalogue(lang)
        missing = sorted(m for m in wanted if not po.get(m) or blank(po.get(m).string)
                         or po.get(m).fuzzy)
        assert missing == [], f"{lang}: untranslated: {missing[:10]}"


def test_translations_keep_every_placeholder():
    for message in catalogue("zh"):
        if not message.id:
            continue
        if isinstance(message.id, str):
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
                PLACEHOLDER.findall(message.string)), message.id
        else:  # a plural message: every form says what the plural says
            for form in message.string:
                assert sorted(PLACEHOLDER.findall(message.id[1])) == sorted(
                    PLACEHOLDER.findall(form)), message.id


def _plain(value):
    # Plural messages come as lists from .mo files and as tuples from .po files.
    return tuple(value) if isinstance(value, list | tuple) else value


def test_compiled_catalogues_match_their_sources():
    for lang in ("zh", "en"):
        with open(CATALOGUES / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
            compiled = {_plain(m.id): _plain(m.string) for m in read_mo(f) if m.id}
        source = {_plain(m.id): _plain(m.string) for m in catalogue(lang)
                  if m.id and not m.fuzzy}
        assert compiled == source, f"run: pybabel compile -d examsys/translations ({lang})"


def test_the_browser_language_picks_chinese(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    body = page.get_data(as_text=True)
    assert '<html lang="zh-CN">' in body and "登录" in body


def test_pages_name_the_issuer_in_the_readers_language(app, client):
    app.config.update(ISSUER_NAME="Battery Board", ISSUER_NAME_ZH="电池委员会")
    chinese = client.get("/verify", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    english = client.get("/verify", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<footer>电池委员会</footer>" in chinese and "Battery Board" not in chinese
    assert "<footer>Battery Board</footer>" in english and "电池委员会" not in english


def test_the_users_own_setting_wins_over_the_browser(app, candidate):
    db.session.get(User, candidate.id).locale = "en"
    db.session.commit()
    client = app.test_client()
    login_page(client, candidate.email)
    page = client.get("/dashboard", headers={"Accept-Language": "zh-CN"})
    assert "My exams" in page.get_data(as_text=True)


def test_choosing_a_language_on_the_page_is_remembered(app, candidate):
    client = app.test_client()
    login_page(client, candidate.email)
    token = csrf_from(client.get("/dashboard").get_data(as_text=True))
    client.post("/language", data={"csrf_token": token, "locale": "zh_CN"})
    assert "我的考试" in client.get("/dashboard").get_data(as_text=True) or \
        "考试" in client.get("/dashboard").get_data(as_text=True)
    assert db.session.get(User, candidate.id).locale == "zh_CN"
