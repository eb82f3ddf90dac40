"""The exam room in a real headless Chromium: autosave, offline, reload, timer, submit."""

import os
import re
import shutil
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from werkzeug.serving import make_server

from examsys.core.clock import utcnow
from examsys.exams.models import Attempt, AttemptItem, ResponseEvent
from examsys.extensions import db

from .conftest import PASSWORD

pytestmark = pytest.mark.browser
CHROMIUM = os.environ.get("EXAMSYS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextmanager
def serving(app):
    """``app`` served on a free local port in a thread; yields its base URL."""
    # The test's own session must hold no SQLite lock while the browser works.
    db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture
def live_server(make_app, enrolled, candidate):
    pytest.candidate_email = candidate.email
    with serving(make_app(SERVER_NAME=None)) as url:
        yield url


@pytest.fixture
def page(live_server):
    from playwright.sync_api import sync_playwright

    # A missing browser is a failure, not a skip: CI must run these tests.
    assert os.path.exists(CHROMIUM), f"Chromium not found at {CHROMIUM}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        context = browser.new_context(locale="en-US")
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()
        browser.close()


def log_in(page, base, email):
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{base}/dashboard")


def exam_ready(tab):
    """Wait for the exam page and its scripts: they are deferred, and run after the page's
    elements are there (a test that reads an answer at once found no examsysWidgets on a
    loaded machine)."""
    tab.wait_for_selector("#exam")
    tab.wait_for_load_state("domcontentloaded")


def log_in_and_start(page, base, email):
    log_in(page, base, email)
    page.click("text=Start the exam")
    exam_ready(page)


def answer_first_choice(page, position: int):
    """Give some answer to an item whatever its type (first option, or a number)."""
    first = page.locator(f"#item-{position} input").first
    if first.get_attribute("type") == "text":
        first.fill("1.5")
        first.press("Tab")  # the change event fires when the field loses focus
    else:
        first.check()


def expect_saved(page, position: int, timeout: int = 10_000):
    from playwright.sync_api import expect

    expect(page.locator(f"#item-{position} .item-state")).to_contain_text("Saved",
                                                                        timeout=timeout)


def answered(page, position: int) -> bool:
    first = page.locator(f"#item-{position} input").first
    if first.get_attribute("type") == "text":
        return first.input_value() == "1.5"
    return first.is_checked()


def saved_items() -> dict[int, object]:
    attempt = db.session.query(Attempt).one()
    saved = {i.position: i.response for i in db.session.query(AttemptItem).filter_by(
        attempt_id=attempt.id) if i.last_seq}
    db.session.rollback()  # release the read before the browser writes again
    return saved


def test_answers_autosave_and_survive_a_reload(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    # The countdown starts once the deferred script runs: wait for it, then read it.
    from playwright.sync_api import expect

    expect(page.locator("#countdown")).to_have_text(re.compile(r"^\d+:\d\d"))
    for position in (1, 2, 3):
        answer_first_choice(page, position)
    for position in (1, 2, 3):
        expect_saved(page, position)
    assert set(saved_items()) == {1, 2, 3}
    page.reload()
    exam_ready(page)
    assert all(answered(page, position) for position in (1, 2, 3))
    assert not answered(page, 4)


def test_answers_given_offline_are_sent_in_order_when_the_network_returns(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    page.context.set_offline(True)
    answer_first_choice(page, 1)
    answer_first_choice(page, 2)
    page.wait_for_selector("#save-state.offline")
    assert saved_items() == {}
    page.context.set_offline(False)
    expect_saved(page, 1)
    expect_saved(page, 2)
    assert set(saved_items()) == {1, 2}
    seqs = [e.seq for e in db.session.query(ResponseEvent).order_by(ResponseEvent.id)]
    db.session.rollback()
    assert len(seqs) == 2 and seqs == sorted(seqs)


def test_answers_left_unsent_survive_a_reload_while_offline(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    page.context.set_offline(True)
    answer_first_choice(page, 4)
    page.wait_for_selector("#save-state.offline")
    # The server stays unreachable across the reload: the answer can only come back from
    # the page's own storage, and is sent once the server is reachable again.
    page.route("**/api/v1/attempts/**", lambda route: route.abort())
    page.context.set_offline(False)
    page.reload()
    exam_ready(page)
    assert answered(page, 4)
    assert saved_items() == {}
    page.unroute("**/api/v1/attempts/**")
    expect_saved(page, 4, timeout=20_000)
    assert 4 in saved_items()


def test_the_exam_submits_itself_when_time_runs_out(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    answer_first_choice(page, 1)
    expect_saved(page, 1)
    attempt = db.session.query(Attempt).one()
    attempt_id, deadline = attempt.id, attempt.deadline
    db.session.rollback()
    # The server's clock jumps to 3 seconds before the deadline; the page re-reads it.
    with time_machine.travel(deadline - timedelta(seconds=3), tick=True):
        page.reload()
        page.wait_for_selector("#countdown")
        page.wait_for_url("**/result", timeout=20_000)
        assert utcnow() >= deadline - timedelta(seconds=1)
    closed = db.session.get(Attempt, attempt_id)
    assert closed.state == "graded" and closed.finished_at <= deadline
    assert page.locator(".result").count() == 1


def test_submit_shows_the_result(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    answer_first_choice(page, 1)
    page.click("#submit-button")
    # The summary lists what is still unanswered before anything is submitted.
    page.wait_for_selector("#summary:not([hidden])")
    assert page.locator("#summary-unanswered li").count() >= 1
    page.click("#confirm-submit")
    page.wait_for_url("**/result")
    assert page.locator(".result").count() == 1
