"""The printable certificate in a real headless Chromium: the Print button prints, the print
layout shows the certificate alone on one A4 page, and its QR code is drawn."""

import re

import pytest
from sqlalchemy import select

from examsys.certs.models import Certificate
from examsys.extensions import db

from .exam_support import sit
from .test_browser import live_server, log_in, page  # noqa: F401 - shared fixtures

pytestmark = pytest.mark.browser


@pytest.fixture
def certificate(app, enrolled, candidate) -> str:
    assert sit(enrolled, candidate).passed
    serial = db.session.scalar(select(Certificate.serial)
                               .where(Certificate.holder_id == candidate.id))
    db.session.commit()
    return serial


def open_certificate(page, base, serial):  # noqa: F811 - page is the shared fixture
    page.add_init_script("window.print = () => { window.printed = (window.printed || 0) + 1; }")
    log_in(page, base, pytest.candidate_email)
    page.goto(f"{base}/certificates/{serial}")


def test_the_print_button_prints_the_certificate(page, live_server, certificate):  # noqa: F811
    open_certificate(page, live_server, certificate)
    page.click("[data-print]")
    assert page.evaluate("window.printed") == 1


def test_print_layout_shows_the_certificate_alone_on_one_page(page, live_server,  # noqa: F811
                                                              certificate):
    open_certificate(page, live_server, certificate)
    assert page.evaluate("document.querySelector('figure.qr img').naturalWidth") > 0
    page.emulate_media(media="print")
    assert page.locator("p.actions").is_hidden()
    assert page.locator("header.top").is_hidden()
    sheet = page.locator("article.certificate-sheet")
    assert sheet.is_visible()
    assert certificate in sheet.inner_text()
    assert page.locator("#verify-link").is_visible()
    pdf = page.pdf(format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1
