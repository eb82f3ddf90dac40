"""The exam room keeps every answer in headless Chromium when the network is slow at the
deadline, when the same login has the exam open in two tabs, and when a sequential exam
moves on while the answer it leaves is still being sent."""

import contextlib
import time
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from sqlalchemy import select

from examsys.bank.types import get_type
from examsys.core.clock import utcnow
from examsys.exams.models import Attempt, AttemptItem
from examsys.extensions import db

from . import test_browser, test_browser_timing
from .test_browser import (
    answer_first_choice,
    exam_ready,
    expect_saved,
    log_in_and_start,
    saved_items,
)
from .test_browser_timing import deadline_of_the_attempt

pytestmark = pytest.mark.browser
live_server, page = test_browser.live_server, test_browser.page
sequential_server = test_browser_timing.sequential_server


def stored(position: int):
    """The item's saved answer and seq, as the server holds them."""
    item = db.session.scalars(select(AttemptItem).where(AttemptItem.position == position)).one()
    out = item.response, item.last_seq
    db.session.rollback()  # hold no SQLite lock while the browser works
    return out


def canonical(position: int, shown):
    """The stored form of an answer as the page reads it (its options are shuffled)."""
    item = db.session.scalars(select(AttemptItem).where(AttemptItem.position == position)).one()
    out = get_type(item.version.type).parse(item.version.payload, item.option_order, shown)
    db.session.rollback()
    return out


def on_screen(tab, position: int):
    return tab.evaluate("(p) => window.examsysWidgets.read(document.getElementById(`item-${p}`))",
                        position)


def single_choice_position(tab) -> int:
    """An item answered by picking one of several options (single choice or true/false)."""
    return int(tab.locator('fieldset.item:has(input[type="radio"])').first
               .get_attribute("data-position"))


def wait_until(tab, check, timeout_s: float = 20):
    """Poll the database (through ``check``) while the page keeps running."""
    end = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < end, "the server never got there"
        tab.wait_for_timeout(200)


def open_tab(tab):
    other = tab.context.new_page()
    other.set_default_timeout(10_000)
    other.goto(tab.url)
    exam_ready(other)
    return other


def test_answers_given_before_the_deadline_on_a_slow_network_are_all_kept(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    deadline = deadline_of_the_attempt()
    with time_machine.travel(deadline - timedelta(seconds=8), tick=True):
        page.reload()
        exam_ready(page)
        # An exam centre's slow network: every request takes over a second.
        cdp = page.context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": 1000, "downloadThroughput": -1,
            "uploadThroughput": -1})
        time.sleep(max(0.0, (deadline - timedelta(seconds=3) - utcnow()).total_seconds()))
        for position in range(1, 9):
            answer_first_choice(page, position)
        assert utcnow() < deadline  # every answer was given in time
        page.wait_for_url("**/result", timeout=45_000)
    assert set(saved_items()) == set(range(1, 9))
    attempt = db.session.scalars(select(Attempt)).one()
    assert attempt.finish_reason == "submitted"  # by the page, not closed by the server
    db.session.rollback()


def test_two_tabs_the_later_choice_is_kept_and_no_tab_stays_saving(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    position = single_choice_position(page)
    tab_b = open_tab(page)  # the same login: both tabs started from the same seq
    page.locator(f"#item-{position} input").nth(0).check()
    expect_saved(page, position)
    tab_b.locator(f"#item-{position} input").nth(1).check()
    later = on_screen(tab_b, position)
    expect_saved(tab_b, position)
    assert stored(position)[0] == canonical(position, later)
    for tab in (page, tab_b):
        expect(tab.locator("#save-state")).to_contain_text("Saved")
        expect(tab.locator("#save-state")).not_to_contain_text("Saving")
    # The first tab shows the choice the server keeps, not its own older one.
    expect(page.locator(f"#item-{position} input").nth(1)).to_be_checked()


def test_an_answer_refused_as_stale_is_sent_again_and_wins(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    position = single_choice_position(page)
    # Another tab, whose counter this page cannot see, saved an answer with a high seq.
    first = page.evaluate("""(p) => {
        const copy = document.getElementById(`item-${p}`).cloneNode(true);
        copy.querySelector("input").checked = true;
        return window.examsysWidgets.read(copy);
    }""", position)
    status = page.evaluate("""async ([url, response]) => (await fetch(url, {
        method: "PUT", credentials: "same-origin",
        headers: {"Content-Type": "application/json",
                  "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content},
        body: JSON.stringify({response, seq: 50})})).status""",
                           [f"{page.locator('#exam').get_attribute('data-save-url')}{position}",
                            first])
    assert status == 200 and stored(position)[1] == 50
    # The candidate's choice, made after it, is the one on screen: it must win.
    page.locator(f"#item-{position} input").nth(1).check()
    expect_saved(page, position)
    response, seq = stored(position)
    assert seq > 50 and response == canonical(position, on_screen(page, position))
    expect(page.locator("#save-state")).not_to_contain_text("Saving")


def test_unsent_answers_of_two_tabs_are_both_kept(page, live_server):
    log_in_and_start(page, live_server, pytest.candidate_email)
    # Both tabs lose the server; each keeps an answer the other does not have.
    context = page.context
    context.route("**/api/v1/attempts/**", lambda route: route.abort())
    tab_b = open_tab(page)
    answer_first_choice(page, 1)
    answer_first_choice(tab_b, 2)
    for tab in (page, tab_b):
        tab.wait_for_selector("#save-state.offline")
    url = page.url
    # The candidate leaves both tabs (to another page).
    tab_b.goto("about:blank")
    page.goto("about:blank")
    assert saved_items() == {}
    # A page opened later, with the server reachable again, sends what both tabs had kept.
    context.unroute("**/api/v1/attempts/**")
    tab_b.close()
    tab_c = page
    tab_c.goto(url)
    exam_ready(tab_c)
    expect_saved(tab_c, 1, timeout=30_000)
    expect_saved(tab_c, 2, timeout=30_000)
    assert set(saved_items()) == {1, 2}


def test_a_crashed_tabs_unsent_answer_is_sent_by_the_next_page_at_once(page, live_server):
    """A tab that crashes says nothing (no pagehide): its queue keeps a fresh stamp, which
    alone would hold it for 20 s. Its Web Lock went with it, so the next page takes the
    queue at once."""
    log_in_and_start(page, live_server, pytest.candidate_email)
    crashed = open_tab(page)
    crashed.route("**/api/v1/attempts/**", lambda route: route.abort())
    answer_first_choice(crashed, 1)
    crashed.wait_for_selector("#save-state.offline")
    url = crashed.url
    page.goto("about:blank")  # the first tab leaves: only the crashing one holds the answer
    with crashed.expect_event("crash", timeout=5_000), \
            contextlib.suppress(PlaywrightError):  # the navigation dies with the renderer
        crashed.goto("chrome://crash")
    assert saved_items() == {}
    page.goto(url)
    exam_ready(page)
    expect_saved(page, 1, timeout=8_000)  # well before the stamp's 20 s
    assert set(saved_items()) == {1}


@pytest.mark.parametrize("failure", ["network", "server"])
def test_next_in_a_sequential_exam_waits_for_the_answer_it_leaves(page, sequential_server,
                                                                  failure):
    log_in_and_start(page, sequential_server, pytest.candidate_email)
    failed = []

    def fail_once(route):
        if failed:
            route.continue_()
            return
        failed.append(route.request.url)
        if failure == "network":
            route.abort()
        else:
            route.fulfill(status=503, content_type="application/json", body="{}")

    page.route("**/items/1", fail_once)
    answer_first_choice(page, 1)
    page.click("#item-1 button.next")  # at once, while the save is failing
    expect(page.locator("#item-2")).to_be_visible()

    def moved():
        current = db.session.scalars(select(Attempt.current_position)).one()
        db.session.rollback()
        return current == 2

    wait_until(page, moved)
    wait_until(page, lambda: 1 in saved_items())
    assert failed  # the first save really failed
    expect(page.locator("#save-state")).not_to_contain_text("Saving")
