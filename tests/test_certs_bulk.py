# ruff: noqa: F811 - pytest fixtures imported from test_certificates
"""Bulk verification: CSV upload on a page and JSON/CSV through the API; every row its own
line-numbered answer; oversized uploads 413; nothing else changes."""

import csv
import io

from sqlalchemy import func, select

from examsys.certs.models import CertificateEvent
from examsys.core.audit import AuditEvent
from examsys.extensions import db

from .conftest import csrf_from
from .test_certificates import cert  # noqa: F401 - the fixture


def upload(client, data: bytes, download=False):
    page = client.get("/verify/bulk")
    form = {"csrf_token": csrf_from(page.get_data(as_text=True)),
            "file": (io.BytesIO(data), "check.csv")}
    if download:
        form["download"] = "1"
    return client.post("/verify/bulk", data=form, content_type="multipart/form-data")


def test_csv_rows_each_get_their_own_answer(app, cert, client):
    before = (db.session.scalar(select(func.count(CertificateEvent.id))),
              db.session.scalar(select(func.count(AuditEvent.id))))
    text = (f"serial,name\n{cert.serial},张伟\n{cert.serial},李四\nLB-0000-0000-0000-0000,张伟\n"
            f"\n{cert.serial}\n,张伟\n{cert.serial},张伟,extra\n\"unclosed,x\n")
    response = upload(client, text.encode())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for line, status, reason in [(2, "valid", "valid"), (3, "not_found", "name_mismatch"),
                                 (4, "not_found", "unknown_serial"),
                                 (6, "malformed", "missing_name"),
                                 (7, "malformed", "missing_serial"),
                                 (8, "malformed", "too_many_columns")]:
        assert f'data-line="{line}" data-status="{status}" data-reason="{reason}"' in html
    assert (db.session.scalar(select(func.count(CertificateEvent.id))),
            db.session.scalar(select(func.count(AuditEvent.id)))) == before


def test_results_download_as_csv(app, cert, client):
    response = upload(client, f"{cert.serial},张伟\n=cmd,x\n".encode(), download=True)
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0]["status"] == "valid" and rows[0]["holder_name"] == "张伟"
    assert rows[1]["serial"] == "'=cmd"  # a formula is defused


def test_gbk_csv_from_excel_is_read(app, cert, client):
    html = upload(client, f"{cert.serial},张伟\n".encode("gb18030")).get_data(as_text=True)
    assert 'data-status="valid"' in html


def test_oversized_upload_is_413_on_page_and_api(app, cert, make_app):
    small = make_app(BULK_VERIFY_MAX_BYTES=1024)
    client = small.test_client()
    big = (f"{cert.serial},张伟\n" * 100).encode()
    assert upload(client, big).status_code == 413
    response = client.post("/api/v1/certificates/verify", data=big, content_type="text/csv")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_too_many_rows_is_413(app, cert, make_app):
    client = make_app(BULK_VERIFY_MAX_ROWS=3).test_client()
    items = [{"serial": cert.serial, "name": "张伟"}] * 4
    response = client.post("/api/v1/certificates/verify", json={"certificates": items})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_many_rows"


def test_api_verifies_a_list_with_one_query(app, cert, client):
    items = [{"serial": cert.serial, "name": "张伟"}, {"serial": "nope", "name": "x"},
             {"serial": cert.serial}, 7, {"token": "forged.token"}, {"serial": 5}]
    response = client.post("/api/v1/certificates/verify", json={"certificates": items})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [(r["line"], r["status"], r["reason"]) for r in results] == [
        (1, "valid", "valid"), (2, "not_found", "unknown_serial"),
        (3, "malformed", "missing_name"), (4, "malformed", "not_an_object"),
        (5, "invalid", "bad_signature"), (6, "malformed", "not_text")]
    assert results[0]["certificate"]["holder_name"] == "张伟"
    assert results[1]["certificate"] is None


def test_api_answers_csv_when_asked(app, cert, client):
    response = client.post("/api/v1/certificates/verify?format=csv",
                           data=f"{cert.serial},张伟\n".encode(), content_type="text/csv")
    assert response.mimetype == "text/csv" and "valid" in response.get_data(as_text=True)


def test_api_rejects_a_body_that_is_not_a_list(app, client):
    response = client.post("/api/v1/certificates/verify", json={"certificates": "x"})
    assert response.status_code == 422
