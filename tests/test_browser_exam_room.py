"""The exam room in headless Chromium: navigator, flags, summary, keyboard, take-over."""

import pytest
from playwright.sync_api import expect

from examsys.core.audit import AuditEvent
from examsys.exams.models import AttemptEvent, AttemptItem
from examsys.extensions import db

from . import test_browser
from .test_browser import answer_first_choice, exam_ready, expect_saved, log_in_and_start

pytestmark = pytest.mark.browser
# The live server and the browser page of the exam room's first browser tests.
live_server, page = test_browser.live_server, test_browser.page


def test_navigator_shows_answered_and_flagged_and_the_summary_lists_them(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    answer_first_choice(page, 1)
    expect_saved(page, 1)
    expect(page.locator('[data-nav="1"]')).to_have_class("nav-item answered")
    with page.expect_response(lambda r: r.url.endswith("/flag")) as flag_stored:
        page.click("#item-2 button.flag")
    expect(page.locator("#item-2 button.flag")).to_have_attribute("aria-pressed", "true")
    assert flag_stored.value.ok  # stored before the reload below
    expect(page.locator('[data-nav="2"]')).to_have_attribute(
        "aria-label", "Question 2, not answered, flagged for review")
    page.click("#submit-button")
    expect(page.locator("#summary")).to_be_visible()
    unanswered = page.locator("#summary-unanswered li").all_inner_texts()
    assert "Question 1" not in unanswered and "Question 2" in unanswered
    assert page.locator("#summary-flagged li").all_inner_texts() == ["Question 2"]
    # Back to the exam from the summary, by keyboard.
    page.focus("#back-to-exam")
    page.keyboard.press("Enter")
    expect(page.locator("#summary")).to_be_hidden()
    page.reload()
    exam_ready(page)
    expect(page.locator("#item-2 button.flag")).to_have_attribute("aria-pressed", "true")
    flagged = [i.position for i in db.session.query(AttemptItem).filter_by(flagged=True)]
    db.session.rollback()
    assert flagged == [2]


def test_a_second_browser_takes_over_and_the_first_is_told(page, live_server):
    from .conftest import PASSWORD

    log_in_and_start(page, live_server, pytest.candidate_email)
    answer_first_choice(page, 1)
    expect_saved(page, 1)
    # Another browser profile: its own cookies, hence its own login session.
    context = page.context.browser.new_context(locale="en-US")
    other = context.new_page()
    other.goto(f"{live_server}/login")
    other.fill("#email", pytest.candidate_email)
    other.fill("#password", PASSWORD)
    other.click("form.card button[type=submit]")
    other.wait_for_url(f"{live_server}/dashboard")
    other.click("text=Resume the exam")
    exam_ready(other)
    answer_first_choice(other, 2)
    expect_saved(other, 2)
    context.close()
    answer_first_choice(page, 3)
    expect(page.locator("#superseded")).to_be_visible()
    expect(page.locator("#superseded")).to_contain_text("another browser")
    kinds = [e.kind for e in db.session.query(AttemptEvent)]
    actions = [a.action for a in db.session.query(AuditEvent)]
    saved = {i.position for i in db.session.query(AttemptItem) if i.last_seq}
    db.session.rollback()
    assert "device_takeover" in kinds and "attempt.device_takeover" in actions
    assert saved == {1, 2}
