"""The exam room's clock and navigation rules in headless Chromium: the 5- and 1-minute
warnings follow the server's clock, and a sequential exam only moves forward."""

from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select

from examsys.exams.models import Attempt, Certification
from examsys.extensions import db

from . import test_browser
from .exam_support import enroll, make_session, set_blueprint_options
from .test_browser import answer_first_choice, answered, exam_ready, expect_saved, log_in_and_start

pytestmark = pytest.mark.browser
live_server, page = test_browser.live_server, test_browser.page


def deadline_of_the_attempt():
    deadline = db.session.scalars(select(Attempt.deadline)).one()
    db.session.rollback()  # hold no SQLite lock while the browser works
    return deadline


@pytest.mark.parametrize(("before", "text"), [(timedelta(minutes=5, seconds=-3),
                                                "5 minutes left."),
                                               (timedelta(seconds=57), "1 minute left.")])
def test_warnings_follow_the_servers_clock(page, live_server, before, text):
    log_in_and_start(page, live_server, pytest.candidate_email)
    expect(page.locator("#time-warning")).to_be_hidden()
    with time_machine.travel(deadline_of_the_attempt() - before, tick=True):
        page.reload()
        exam_ready(page)
        expect(page.locator("#time-warning")).to_have_text(text)
        expect(page.locator("#time-warning")).to_have_attribute("role", "alert")
        countdown = page.locator("#countdown").inner_text()
        assert countdown.startswith("04:5" if "5" in text else "00:5"), countdown


@pytest.fixture
def sequential_server(make_app, bank, examiner, candidate):
    set_blueprint_options(db.session.scalar(select(Certification).where(
        Certification.code == "TEST-CERT")), sequential=True)
    es = make_session(examiner)
    enroll(es, candidate)
    pytest.candidate_email = candidate.email
    with test_browser.serving(make_app(SERVER_NAME=None)) as url:
        yield url


def test_a_sequential_exam_shows_one_question_and_only_moves_forward(page, sequential_server):
    log_in_and_start(page, sequential_server, pytest.candidate_email)
    expect(page.locator("#item-1")).to_be_visible()
    expect(page.locator("#item-2")).to_be_hidden()
    answer_first_choice(page, 1)
    expect_saved(page, 1)
    with page.expect_response(lambda r: r.url.endswith("/position")) as moved:
        page.click("#item-1 button.next")
    expect(page.locator("#item-2")).to_be_visible()
    expect(page.locator("#item-1")).to_be_hidden()
    assert moved.value.ok  # stored before the reload below (else the reload could win)
    # A reload keeps the candidate on the question reached, never back on the first.
    page.reload()
    exam_ready(page)
    expect(page.locator("#item-2")).to_be_visible()
    expect(page.locator("#item-1")).to_be_hidden()
    assert answered(page, 1)
