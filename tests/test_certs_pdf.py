# ruff: noqa: S603, S607, F811 - tests run fixed local tools (poppler, this interpreter)
"""The printable certificate: a PDF whose Chinese text really renders (checked by text
extraction and by rasterising it), with a QR code; and the HTML page."""

import os
import shutil
import subprocess

import pytest

from .conftest import Api
from .test_certificates import cert  # noqa: F401 - the fixture

POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")
needs_poppler = pytest.mark.skipif(not POPPLER and not os.environ.get("CI"),
                                   reason="apt-get install poppler-utils")


def pdf_of(app, user, serial) -> bytes:
    api = Api(app.test_client())
    api.login(user.email)
    response = api.get(f"/certificates/{serial}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.get_data()


@needs_poppler
def test_pdf_text_has_the_chinese_name_and_details(app, cert, candidate, tmp_path):
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf_of(app, candidate, cert.serial))

    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout

    for expected in ("张伟", "ZHANG Wei", "证", "CERTIFICATE", cert.serial,
                     cert.issued_at.strftime("%Y-%m-%d"), cert.expires_at.strftime("%Y-%m-%d"),
                     f'{app.config["ISSUER_NAME_ZH"]} · {app.config["ISSUER_NAME"]}', "/verify/"):
        assert expected in text, expected
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    assert "yes yes" in fonts  # embedded and subset
    # Every label in both languages, the words as the catalogues give them.
    from flask_babel import force_locale, gettext

    for message, joiner in (("This is to certify that", " / "),
                            ("has passed the examination for", " / "),
                            ("Serial", " "), ("Valid until", " ")):
        with app.test_request_context(), force_locale("zh_CN"):
            chinese = gettext(message)
        assert chinese != message, message  # translated
        assert f"{chinese}{joiner}{message}" in text, message


@needs_poppler
def test_pdf_renders_ink_where_the_name_and_qr_are(app, cert, candidate, tmp_path):
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf_of(app, candidate, cert.serial))
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-singlefile", str(path),
                    str(tmp_path / "page")], check=True)
    raw = (tmp_path / "page.pgm").read_bytes()
    header, pixels = raw.split(b"\n255\n", 1)
    width, height = map(int, header.split()[1:3])

    def dark(x0, y0, x1, y1) -> int:  # in fractions of the page
        return sum(pixels[y * width + x] < 128 for y in range(int(y0 * height), int(y1 * height))
                   for x in range(int(x0 * width), int(x1 * width)))

    assert dark(0.35, 0.38, 0.65, 0.50) > 20  # the holder's name (tofu boxes are hollow)
    assert dark(0.75, 0.70, 0.95, 0.92) > 100  # the QR code


def test_holder_page_prints_with_qr_and_links(app, cert, candidate):
    api = Api(app.test_client())
    api.login(candidate.email)
    html = api.get(f"/certificates/{cert.serial}").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in html and "certs.css" in html
    assert f"/certificates/{cert.serial}.pdf" in html
    assert "ZHANG Wei" in html


def test_public_page_shows_only_name_and_masked_id(app, bank, examiner, candidate, client):
    from examsys.certs import identity
    from examsys.core.clock import utcnow
    from examsys.extensions import db

    from .test_certificates import certificate_of, enroll, make_session, sit

    identity.save_details(db.session, utcnow(), candidate, name_en="Zhang Wei",
                          id_number="11010519491231002X", actor_id=candidate.id)
    db.session.commit()
    es = make_session(examiner)
    enroll(es, candidate)
    serial = certificate_of(sit(es, candidate)).serial
    body = client.get("/api/v1/certificates/verify",
                      query_string={"serial": serial, "name": "zhang wei"}).get_json()
    assert body["status"] == "valid"
    assert body["certificate"]["id_number"] == "110***********002X"
    assert "11010519491231002X" not in str(body) and candidate.email not in str(body)


def test_holder_sets_details_on_the_details_page(app, candidate):
    from examsys.certs import identity
    from examsys.core.audit import AuditEvent
    from examsys.extensions import db

    from .conftest import csrf_from, login_page

    client = app.test_client()
    login_page(client, candidate.email)
    page = client.get("/certificates/details")
    assert page.status_code == 200
    response = client.post("/certificates/details", data={
        "name_en": "Zhang Wei", "id_number": "11010519491231002X",
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert response.status_code == 302 and response.headers["Location"] == "/certificates/"
    stored = identity.details_for(db.session, candidate.id)
    assert (stored.name_en, stored.id_number_masked) == ("Zhang Wei", "110***********002X")
    entry = db.session.query(AuditEvent).filter_by(action="certificate.holder_details").one()
    assert entry.actor_id == candidate.id
    bad = client.post("/certificates/details", data={
        "name_en": "Zhang Wei", "id_number": "12",
        "csrf_token": csrf_from(page.get_data(as_text=True))})
    assert bad.status_code == 400
    assert "An ID number has 6 to 32 letters or digits." in bad.get_data(as_text=True)
    assert 'value="Zhang Wei"' in bad.get_data(as_text=True)  # what was typed is kept


def test_a_check_by_name_takes_the_office_s_name_not_one_the_holder_chose(app, bank, examiner,
                                                                          candidate, client):
    from examsys.certs import identity
    from examsys.core.clock import utcnow
    from examsys.extensions import db

    from .test_certificates import certificate_of, enroll, make_session, sit

    identity.save_details(db.session, utcnow(), candidate, name_en="SMITH John",
                          id_number=None, actor_id=candidate.id)
    db.session.commit()
    es = make_session(examiner)
    enroll(es, candidate)
    cert = certificate_of(sit(es, candidate))
    assert cert.holder_name_en == "SMITH John"  # printed as the holder asked

    def check(name):
        return client.get("/api/v1/certificates/verify",
                          query_string={"serial": cert.serial, "name": name}).get_json()

    assert (check("SMITH John")["status"], check("SMITH John")["reason"]) == (
        "not_found", "name_mismatch")
    for name in ("张伟", "张 伟", "ZHANG Wei", "zhang wei", "Wei Zhang"):
        assert check(name)["status"] == "valid", name
