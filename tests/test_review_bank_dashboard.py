"""Review fixes: the live progress dashboard (items, minutes, refreshed state and integrity
events), the export form's status names, and keys repeated in a YAML bank file."""

import io
import json
import os
import re
import shutil
from html import unescape

import pytest
from sqlalchemy import func, select

from examsys.accounts.models import User
from examsys.bank.models import Question
from examsys.core.clock import utcnow
from examsys.exams import delivery, scheduling
from examsys.exams.models import AttemptEvent, Enrollment, ExamSession
from examsys.extensions import db

from .conftest import MINI_BANK, PASSWORD, csrf_from, login_page
from .test_browser import serving

CHROMIUM = os.environ.get("EXAMSYS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def set_locale(user, locale: str) -> None:
    db.session.get(User, user.id).locale = locale
    db.session.commit()


def staff_client(app, user, locale: str = "zh_CN"):
    set_locale(user, locale)
    client = app.test_client()
    login_page(client, user.email)
    return client


def cell(body: str, name: str) -> str:
    match = re.search(rf'<td data-field="{name}">(.*?)</td>', body, re.S)
    assert match, f"no {name} cell"
    return unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


# --- the live progress dashboard ---------------------------------------------------------

def test_dashboard_shows_answered_of_items_and_translated_minutes(app, enrolled, examiner,
                                                                  candidate):
    delivery.start_or_resume(db.session, utcnow(), enrolled.id, candidate.id)
    db.session.commit()
    client = staff_client(app, examiner)
    body = client.get(f"/staff/sessions/{enrolled.id}/dashboard").get_data(as_text=True)
    items = enrolled.blueprint.item_count
    assert cell(body, "answered") == f"0 / {items}"
    assert "built-in method" not in body
    assert re.fullmatch(r"\d+ 分钟", cell(body, "seconds_left"))
    assert cell(body, "state") == "作答中"


def test_dashboard_gives_its_script_state_names_minutes_and_integrity_link(app, enrolled,
                                                                           examiner,
                                                                           candidate):
    client = staff_client(app, examiner)
    body = client.get(f"/staff/sessions/{enrolled.id}/dashboard").get_data(as_text=True)
    root = re.search(r'<div id="dashboard"(.*?)>', body, re.S).group(1)
    states = json.loads(unescape(re.search(r"data-states='([^']*)'", root).group(1)))
    assert states["in_progress"] == "作答中" and states["submitted"] == "已交卷"
    assert "{n}" in unescape(re.search(r'data-msg-minutes="([^"]*)"', root).group(1))
    assert re.search(r'data-integrity-url="[^"]*/attempts/0/integrity"', root)
    # The row of a candidate who has not started can be taken over by the attempt.
    assert re.search(r'<tr data-enrollment="\d+"><td>', body)
    # What the script reads from the progress API: the state and the integrity events.
    attempt, _ = delivery.start_or_resume(db.session, utcnow(), enrolled.id, candidate.id)
    db.session.commit()
    data = client.get(f"/api/v1/exam-sessions/{enrolled.id}/progress").get_json()
    (row,) = data["candidates"]
    assert row["attempt_id"] == attempt.id and row["state"] == "in_progress"
    assert row["integrity_events"] == 0
    body = client.get(f"/staff/sessions/{enrolled.id}/dashboard").get_data(as_text=True)
    assert f'data-attempt="{attempt.id}"' in body


@pytest.fixture
def live_dashboard(make_app, enrolled, examiner, candidate, other_candidate):
    app = make_app(SERVER_NAME=None)
    set_locale(examiner, "zh_CN")
    pytest.review_dashboard = {"email": examiner.email, "session": enrolled.id,
                               "items": enrolled.blueprint.item_count,
                               "candidate": candidate.id, "other": other_candidate}
    with serving(app) as url:
        yield url


@pytest.mark.browser
def test_dashboard_script_refreshes_state_answered_and_integrity_events(live_dashboard):
    from playwright.sync_api import expect, sync_playwright

    assert os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM}"
    base = live_dashboard
    known = pytest.review_dashboard
    session_id, candidate_id = known["session"], known["candidate"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        context = browser.new_context(locale="zh-CN")
        # The page refreshes every 10 s: here every 200 ms.
        context.add_init_script("""{ const later = window.setTimeout.bind(window);
            window.setTimeout = (f, ms, ...a) => later(f, ms >= 10000 ? 200 : ms, ...a); }""")
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{base}/login")
        page.fill("#email", known["email"])
        page.fill("#password", PASSWORD)
        page.click("form.card button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{base}/staff/sessions/{session_id}/dashboard")
        row = page.locator("#progress-rows tr")
        expect(row.locator('[data-field="state"]')).to_have_text("未开始")

        # The candidate starts: the not-started row becomes the attempt's row.
        attempt, _ = delivery.start_or_resume(db.session, utcnow(), session_id, candidate_id)
        attempt_id = attempt.id
        db.session.commit()
        items = known["items"]
        expect(row.locator('[data-field="state"]')).to_have_text("作答中")
        expect(row.locator('[data-field="answered"]')).to_have_text(f"0 / {items}")
        expect(row.locator('[data-field="integrity_events"] a')).to_have_text("0")
        link = row.locator('[data-field="integrity_events"] a').get_attribute("href")
        assert link.endswith(f"/attempts/{attempt_id}/integrity")

        # Focus is lost twice, then the candidate submits.
        for _i in range(2):
            db.session.add(AttemptEvent(attempt_id=attempt_id, at=utcnow(), kind="focus_lost"))
        db.session.commit()
        expect(row.locator('[data-field="integrity_events"] a')).to_have_text("2")
        delivery.submit(db.session, utcnow(), attempt_id, candidate_id)
        db.session.commit()
        expect(row.locator('[data-field="state"]')).not_to_have_text("作答中")
        state = row.locator('[data-field="state"]').inner_text()
        assert re.search(r"[\u4e00-\u9fff]", state) and "_" not in state, state
        expect(row.locator('[data-field="seconds_left"]')).to_have_text("—")

        # A retake gets a row of its own after the first, without reloading the page.
        db.session.scalar(select(Enrollment).where(
            Enrollment.session_id == session_id,
            Enrollment.candidate_id == candidate_id)).attempts_allowed = 2
        db.session.commit()
        retake, _ = delivery.start_or_resume(db.session, utcnow(), session_id, candidate_id)
        db.session.commit()
        assert retake.id != attempt_id
        rows = page.locator("#progress-rows tr")
        expect(rows).to_have_count(2)
        second = page.locator(f'#progress-rows tr[data-attempt="{retake.id}"]')
        expect(second.locator('[data-field="state"]')).to_have_text("作答中")
        expect(second.locator('[data-field="answered"]')).to_have_text(f"0 / {items}")
        assert second.locator('[data-field="integrity_events"] a').get_attribute(
            "href").endswith(f"/attempts/{retake.id}/integrity")
        expect(rows.nth(0)).to_have_attribute("data-attempt", str(attempt_id))

        # So does a candidate enrolled and started since the page was drawn, at the end.
        other = known["other"]
        scheduling.enroll(db.session, utcnow(), db.session.get(ExamSession, session_id),
                          [scheduling.EnrollRow(other.email)], actor_id=None)
        db.session.commit()
        theirs, _ = delivery.start_or_resume(db.session, utcnow(), session_id, other.id)
        db.session.commit()
        expect(rows).to_have_count(3)
        expect(rows.nth(2)).to_have_attribute("data-attempt", str(theirs.id))
        expect(rows.nth(2).locator("td").first).to_have_text(other.name)
        expect(rows.nth(2).locator('[data-field="state"]')).to_have_text("作答中")
        context.close()
        browser.close()


# --- the export form ---------------------------------------------------------------------

def test_export_form_names_statuses_in_the_page_language(app, bank, examiner):
    client = staff_client(app, examiner)
    body = client.get("/bank/interchange/").get_data(as_text=True)
    export = body[body.index('action="/bank/interchange/export"'):]
    select_html = re.search(r'<select[^>]*name="status"[^>]*>(.*?)</select>', export,
                            re.S).group(1)
    options = dict(re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>',
                              select_html))
    assert options == {"": "不限", "draft": "草稿", "review": "审核中", "active": "启用",
                       "retired": "已停用"}
    # The named choices still filter the export.
    response = client.get("/bank/interchange/export?format=gift&lang=en&status=active")
    assert response.status_code == 200


# --- keys repeated in a YAML bank file ---------------------------------------------------

DUPLICATED = b"""questions:
  - key: D-1
    key: D-2
    topic: chem
    type: true_false
    levels: [engineer]
    difficulty: 1
    stem: {en: "x?", en: "y?"}
    answer: true
    explanation: {en: e}
"""


def upload(client, content: bytes, name: str = "dup.yaml"):
    page = client.get("/bank/import")
    data = {"csrf_token": csrf_from(page.get_data(as_text=True)),
            "file": (io.BytesIO(content), name)}
    return client.post("/bank/import", data=data, content_type="multipart/form-data")


def question_count() -> int:
    return db.session.scalar(select(func.count(Question.id)))


def test_a_repeated_key_is_a_problem_with_its_line_and_nothing_is_imported(app, bank,
                                                                          examiner):
    before = question_count()
    client = staff_client(app, examiner, "en")
    response = upload(client, DUPLICATED)
    text = unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))
    text = " ".join(text.split())
    assert response.status_code == 422
    assert re.search(r"dup\.yaml:3\W+key\W+key given twice in the same mapping "
                     r"\(first on line 2\)", text), text
    assert re.search(r"dup\.yaml:8\W+en\W+key given twice in the same mapping "
                     r"\(first on line 8\)", text), text
    assert question_count() == before


def test_interchange_import_of_yaml_reports_a_repeated_key(app, bank, examiner):
    before = question_count()
    client = staff_client(app, examiner, "en")
    page = client.get("/bank/interchange/").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "file": (io.BytesIO(DUPLICATED), "dup.yaml"),
            "format": "auto", "lang": "auto", "encoding": "utf-8", "status": "draft",
            "difficulty": "3", "levels": "engineer", "topic": "chem"}
    response = client.post("/bank/interchange/import", data=data,
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "key given twice in the same mapping" in unescape(response.get_data(as_text=True))
    assert question_count() == before


def test_check_bank_reports_a_repeated_key(app, runner, tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_bytes(DUPLICATED)
    result = runner.invoke(args=["check-bank", str(path)])
    assert result.exit_code == 1
    assert f"{path}:3: key: key given twice in the same mapping (first on line 2)" \
        in result.output
    assert f"{path}:8: en: key given twice in the same mapping (first on line 8)" \
        in result.output


def test_a_bank_without_repeated_keys_still_checks(app, runner):
    result = runner.invoke(args=["check-bank", str(MINI_BANK)])
    assert result.exit_code == 0, result.output
