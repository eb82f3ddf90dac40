"""Certificates: issued once on a pass, signed verification links (tampering, other
purposes, key rotation), revocation and expiry, checks by serial and name, and the
holder's own certificate page."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select, text

from examsys.accounts.models import Role
from examsys.bank.types import get_type
from examsys.certs import lifecycle, services
from examsys.certs.models import Certificate
from examsys.core.clock import utcnow
from examsys.core.errors import Conflict
from examsys.exams import delivery, integrity, scheduling
from examsys.exams.models import Attempt, AttemptItem, Enrollment, ExamSession
from examsys.extensions import db

from .conftest import Api, add_user, csrf_from, statements_run
from .exam_support import enroll

SERIAL = re.compile(r"^LB(-[0-9ABCDEFGHJKMNPQRSTVWXYZ]{4}){4}$")  # Crockford base32

# ---------------------------------------------------------------- helpers


@pytest.fixture
def clock():
    """Time frozen at a whole second of the present; move it with clock.move_to(...)."""
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False) as traveller:
        yield traveller


def make_session(examiner, *, release="immediate") -> ExamSession:
    now = utcnow()
    es = scheduling.create_session(db.session, now, certification_code="TEST-CERT",
                                   opens_at=now - timedelta(hours=1),
                                   closes_at=now + timedelta(hours=3), access_code=None,
                                   release=release, title="Certificate session",
                                   actor_id=examiner.id)
    db.session.commit()
    return es


def correct_response(item: AttemptItem):
    qtype = get_type(item.version.type)
    return qtype.display(item.option_order, qtype.key(item.version.payload))


def sit(es, user, *, right: bool = True) -> Attempt:
    """Start, answer every item (all right, or all blank), submit."""
    now = utcnow()
    attempt, _form = delivery.start_or_resume(db.session, now, es.id, user.id)
    db.session.commit()
    if right:
        items = db.session.scalars(select(AttemptItem).where(
            AttemptItem.attempt_id == attempt.id).order_by(AttemptItem.position)).all()
        for seq, item in enumerate(items, start=1):
            delivery.save_response(db.session, now, attempt.id, user.id, item.position,
                                   correct_response(item), seq)
        db.session.commit()
    delivery.submit(db.session, now, attempt.id, user.id)
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Attempt, attempt.id)


def certificate_of(attempt: Attempt) -> Certificate | None:
    return db.session.scalar(select(Certificate).where(Certificate.attempt_id == attempt.id))


@pytest.fixture
def cert(app, enrolled, candidate) -> Certificate:
    """The certificate of 张伟, who passed the open TEST-CERT session (immediate release)."""
    certificate = certificate_of(sit(enrolled, candidate))
    assert certificate is not None
    return certificate


def verify_json(client, **query) -> dict:
    response = client.get("/api/v1/certificates/verify", query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def verdict(html: str) -> tuple[str, str]:
    """The (data-status, data-reason) of the page's #verdict."""
    tag = re.search(r'<section[^>]*\bid="verdict"[^>]*>', html)
    assert tag, "the page shows no verdict"
    status = re.search(r'data-status="([^"]*)"', tag.group(0)).group(1)
    reason = re.search(r'data-reason="([^"]*)"', tag.group(0)).group(1)
    return status, reason


def verify_page_by_token(client, token: str) -> tuple[tuple[str, str], str]:
    response = client.get(f"/verify/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return verdict(html), html


def verify_page_by_serial(client, serial: str, name: str) -> tuple[tuple[str, str], str]:
    form = client.get("/verify")
    response = client.post("/verify", data={
        "csrf_token": csrf_from(form.get_data(as_text=True)), "serial": serial, "name": name})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    return verdict(html), html


def tampered(token: str) -> list[str]:
    payload, signature = token.rsplit(".", 1)
    flip = {"A": "B"}.get(signature[-2], "A")
    return [payload + "." + signature[:-2] + flip + signature[-1],
            payload[:-1] + ("A" if payload[-1] != "A" else "B") + "." + signature,
            payload, token[:-4], "not-a-token", token + "x"]


# ---------------------------------------------------------------- issuing


def test_pass_issues_one_certificate_with_serial_and_expiry(app, bank, examiner, candidate):
    issued = datetime(2027, 3, 15, 10, 20, 30, tzinfo=UTC)
    with time_machine.travel(issued, tick=False):
        es = make_session(examiner)
        enroll(es, candidate)
        attempt = sit(es, candidate)
        delivery.submit(db.session, utcnow(), attempt.id, candidate.id)  # again: no new one
        db.session.commit()

    certificates = db.session.scalars(select(Certificate)).all()
    assert len(certificates) == 1
    cert = certificates[0]
    assert SERIAL.match(cert.serial), cert.serial
    assert (cert.attempt_id, cert.holder_id, cert.holder_name) == (
        attempt.id, candidate.id, "张伟")
    assert cert.certification.code == "TEST-CERT"
    assert cert.issued_at == issued
    assert cert.expires_at == datetime(2029, 3, 15, 10, 20, 30, tzinfo=UTC)  # + 24 months


def test_certificate_issued_on_29_february_expires_at_the_end_of_february(app, bank, examiner,
                                                                          candidate):
    issued = datetime(2028, 2, 29, 8, 0, tzinfo=UTC)
    with time_machine.travel(issued, tick=False):
        es = make_session(examiner)
        enroll(es, candidate)
        cert = certificate_of(sit(es, candidate))

    assert cert.expires_at == datetime(2030, 2, 28, 8, 0, tzinfo=UTC)


def test_serials_differ_between_certificates(app, enrolled, candidate, other_candidate):
    enroll(enrolled, other_candidate)

    first = certificate_of(sit(enrolled, candidate))
    second = certificate_of(sit(enrolled, other_candidate))

    assert SERIAL.match(first.serial) and SERIAL.match(second.serial)
    assert first.serial != second.serial
    assert second.holder_name == "Li Other"


def test_fail_issues_no_certificate(app, enrolled, candidate):
    attempt = sit(enrolled, candidate, right=False)

    assert attempt.passed is False
    assert db.session.scalar(select(func.count(Certificate.id))) == 0


# ---------------------------------------------------------------- verifying a token


def test_valid_token_verifies_on_page_and_api(app, cert, client):
    token = services.token_for(cert)

    (status, reason), html = verify_page_by_token(client, token)
    body = verify_json(client, token=token)

    assert (status, reason) == ("valid", "valid")
    assert "张伟" in html and cert.serial in html
    assert (body["status"], body["reason"]) == ("valid", "valid")
    assert body["certificate"]["serial"] == cert.serial
    assert body["certificate"]["holder_name"] == "张伟"
    assert body["certificate"]["certification_code"] == "TEST-CERT"


def test_api_verification_reads_in_one_statement_outside_any_transaction(app, cert, client):
    """The busiest public request: on PostgreSQL its one statement runs in autocommit (no
    BEGIN or ROLLBACK round trip); SQLite begins a read transaction."""
    token = services.token_for(cert)
    db.session.commit()
    for query in ({"token": token}, {"serial": cert.serial, "name": "张伟"}):
        with statements_run() as seen:
            body = verify_json(client, **query)
        assert (body["status"], body["certificate"]["serial"]) == ("valid", cert.serial)
        if db.engine.dialect.name == "postgresql":
            assert seen == [("SELECT", True)]
        else:
            assert [verb for verb, _ in seen if verb != "PRAGMA"] == ["BEGIN", "SELECT"]


def test_tampered_token_is_invalid(app, cert, client):
    for token in tampered(services.token_for(cert)):
        body = verify_json(client, token=token)
        assert (body["status"], body["reason"], body["certificate"]) == (
            "invalid", "bad_signature", None), token
        (status, _reason), html = verify_page_by_token(client, token)
        assert status == "invalid"
        assert "张伟" not in html


def test_token_signed_for_another_purpose_is_invalid(app, cert, client):
    key = app.config["SECRET_KEY"]
    other_purpose = URLSafeSerializer(key, salt="examsys.account.setup.v1").dumps(
        {"s": cert.serial})
    no_salt = URLSafeSerializer(key).dumps({"s": cert.serial})
    right_salt = URLSafeSerializer(key, salt=services.TOKEN_SALT).dumps({"s": cert.serial})

    assert verify_json(client, token=right_salt)["status"] == "valid"  # the control
    for token in (other_purpose, no_salt):
        assert verify_json(client, token=token)["status"] == "invalid"
        assert verify_page_by_token(client, token)[0][0] == "invalid"


def test_token_of_an_unknown_serial_is_not_found(app, cert, client):
    token = URLSafeSerializer(app.config["SECRET_KEY"], salt=services.TOKEN_SALT).dumps(
        {"s": "LB-0000-0000-0000-0000"})

    body = verify_json(client, token=token)

    assert (body["status"], body["reason"], body["certificate"]) == (
        "not_found", "unknown_serial", None)
    assert verify_page_by_token(client, token)[0] == ("not_found", "unknown_serial")


def test_token_from_before_a_key_rotation_still_verifies(app, cert, make_app):
    serial = cert.serial
    old_app = make_app(SECRET_KEY="old")
    with old_app.app_context():
        old_token = services.serializer().dumps({"s": serial})
    assert verify_json(app.test_client(), token=old_token)["status"] == "invalid"

    rotated = make_app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=["old"])
    rotated_client = rotated.test_client()
    body = verify_json(rotated_client, token=old_token)
    assert (body["status"], body["certificate"]["serial"]) == ("valid", serial)
    assert verify_page_by_token(rotated_client, old_token)[0] == ("valid", "valid")

    retired = make_app(SECRET_KEY="new")
    assert verify_json(retired.test_client(), token=old_token)["status"] == "invalid"
    assert verify_page_by_token(retired.test_client(), old_token)[0][0] == "invalid"


def test_after_a_key_rotation_new_tokens_are_signed_with_the_new_key(app, cert, make_app):
    serial = cert.serial
    rotated = make_app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=["old"])
    with rotated.app_context():
        new_token = services.serializer().dumps({"s": serial})

    assert verify_json(make_app(SECRET_KEY="new").test_client(),
                       token=new_token)["status"] == "valid"
    assert verify_json(make_app(SECRET_KEY="old").test_client(),
                       token=new_token)["status"] == "invalid"


def test_keys_of_any_kind_itsdangerous_takes_still_sign_and_verify(app, cert, make_app):
    """The serializer is kept per set of keys; keys that cannot be kept (a bytearray) are
    still used."""
    serial = cert.serial
    rotated = make_app(SECRET_KEY=b"new", SECRET_KEY_FALLBACKS=[bytearray(b"old")])
    with make_app(SECRET_KEY="old").app_context():
        old_token = services.serializer().dumps({"s": serial})
    with rotated.app_context():
        new_token = services.serializer().dumps({"s": serial})
    for token in (old_token, new_token):
        assert verify_json(rotated.test_client(), token=token)["status"] == "valid"


# ---------------------------------------------------------------- revoked and expired


def test_revoked_certificate_verifies_as_revoked_with_reason(app, cert, examiner, client):
    token = services.token_for(cert)
    lifecycle.revoke(db.session, utcnow(), cert.serial, "Exam misconduct", examiner.id)
    db.session.commit()

    body = verify_json(client, token=token)
    (status, reason), html = verify_page_by_token(client, token)
    by_serial = verify_json(client, serial=cert.serial, name="张伟")

    assert (body["status"], body["reason"]) == ("revoked", "revoked")
    assert body["certificate"]["revocation_reason"] == "Exam misconduct"
    assert body["certificate"]["revoked_at"] is not None
    assert (status, reason) == ("revoked", "revoked")
    assert "Exam misconduct" in html
    assert by_serial["status"] == "revoked"
    assert verify_page_by_serial(client, cert.serial, "张伟")[0] == ("revoked", "revoked")


def test_expired_certificate_verifies_as_expired(app, cert, client, clock):
    token = services.token_for(cert)
    serial, expires_at = cert.serial, cert.expires_at

    clock.move_to(expires_at - timedelta(seconds=1))
    assert verify_json(client, token=token)["status"] == "valid"

    clock.move_to(expires_at)
    body = verify_json(client, token=token)
    assert (body["status"], body["reason"]) == ("expired", "expired")
    assert verify_page_by_token(client, token)[0] == ("expired", "expired")
    assert verify_json(client, serial=serial, name="张伟")["status"] == "expired"
    assert verify_page_by_serial(client, serial, "张伟")[0] == ("expired", "expired")


# ---------------------------------------------------------------- verifying by serial and name


def test_serial_and_name_verify_on_page_and_api(app, cert, client):
    body = verify_json(client, serial=cert.serial, name="张伟")
    (status, reason), html = verify_page_by_serial(client, cert.serial, "张伟")

    assert (body["status"], body["reason"]) == ("valid", "valid")
    assert body["certificate"]["holder_name"] == "张伟"
    assert (status, reason) == ("valid", "valid")
    assert "张伟" in html


def test_a_logged_in_user_verifies_on_the_pages_and_the_api(app, cert, client, examiner):
    """A login makes the pages load the user (language, menu) in the request's session
    while they verify: the check must never wait for that session's lock (SQLite)."""
    from .conftest import login_page

    login_page(client, examiner.email)
    (status, _reason), html = verify_page_by_serial(client, cert.serial, "张伟")
    assert status == "valid" and "张伟" in html
    (status, _reason), _html = verify_page_by_token(client, services.token_for(cert))
    assert status == "valid"
    assert verify_json(client, serial=cert.serial, name="张伟")["status"] == "valid"


def test_unknown_serial_is_not_found(app, cert, client):
    unknown = "LB-0000-0000-0000-0000" if cert.serial != "LB-0000-0000-0000-0000" \
        else "LB-1111-1111-1111-1111"

    for serial in (unknown, "garbage", "LB-"):
        body = verify_json(client, serial=serial, name="张伟")
        assert (body["status"], body["reason"], body["certificate"]) == (
            "not_found", "unknown_serial", None)
    assert verify_page_by_serial(client, unknown, "张伟")[0] == ("not_found", "unknown_serial")


def test_wrong_name_is_not_found_and_leaks_no_details(app, cert, client):
    body = verify_json(client, serial=cert.serial, name="李四")
    (status, reason), html = verify_page_by_serial(client, cert.serial, "李四")

    assert body == {"status": "not_found", "reason": "name_mismatch", "certificate": None}
    assert (status, reason) == ("not_found", "name_mismatch")
    for detail in ("张伟", "Test Certification", cert.issued_at.strftime("%Y-%m-%d"),
                   cert.expires_at.strftime("%Y-%m-%d"), 'class="meta"'):
        assert detail not in html


@pytest.mark.parametrize("typed", ["张 伟", "张伟 ", " 张　伟", "张伟"])
def test_chinese_name_matches_across_spaces(app, cert, client, typed):
    assert verify_json(client, serial=cert.serial, name=typed)["status"] == "valid"
    assert verify_page_by_serial(client, cert.serial, typed)[0] == ("valid", "valid")


@pytest.mark.parametrize("typed", ["ＺＨＡＮＧ", "zhang", "ZHANG", "Ｚｈａｎｇ", "z h a n g"])
def test_latin_name_matches_across_width_case_and_spaces(app, bank, examiner, client, typed):
    zhang = add_user(Role.CANDIDATE, "zhang@example.com", "Zhang")
    es = make_session(examiner)
    enroll(es, zhang)
    serial = certificate_of(sit(es, zhang)).serial

    assert verify_json(client, serial=serial, name=typed)["status"] == "valid"
    assert verify_page_by_serial(client, serial, typed)[0] == ("valid", "valid")
    assert verify_json(client, serial=serial, name="zhan")["reason"] == "name_mismatch"


def test_serial_typed_loosely_still_matches(app, cert, client):
    serial = cert.serial
    for typed in (serial.lower(), serial.replace("-", ""), serial.lower().replace("-", ""),
                  serial.replace("-", " "), serial.removeprefix("LB-")):
        body = verify_json(client, serial=typed, name="张伟")
        assert (body["status"], body["certificate"]["serial"]) == ("valid", serial), typed
        assert verify_page_by_serial(client, typed, "张伟")[0] == ("valid", "valid"), typed


def test_verify_api_without_token_or_serial_and_name_is_unprocessable(app, cert, client):
    for query in ({}, {"serial": cert.serial}, {"name": "张伟"}):
        response = client.get("/api/v1/certificates/verify", query_string=query)
        assert response.status_code == 422


# ---------------------------------------------------------------- the holder's page


def logged_in(app, user) -> Api:
    api = Api(app.test_client())
    assert api.login(user.email).status_code == 200
    return api


def test_holder_sees_the_certificate_page_after_release(app, cert, candidate):
    holder = logged_in(app, candidate)

    page = holder.get(f"/certificates/{cert.serial}")

    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert cert.serial in html and "张伟" in html
    # The sheet is bilingual: the issuer in both languages, whatever the page's.
    assert (f'<span lang="zh-CN">{app.config["ISSUER_NAME_ZH"]}</span> · '
            f'<span lang="en">{app.config["ISSUER_NAME"]}</span>') in html
    link = re.search(r'id="verify-link">([^<]+)<', html).group(1)
    token = link.rsplit("/verify/", 1)[1]
    assert verify_json(app.test_client(), token=token)["status"] == "valid"


def test_another_candidate_gets_404_for_the_certificate_page(app, cert, other_candidate):
    intruder = logged_in(app, other_candidate)

    page = intruder.get(f"/certificates/{cert.serial}")

    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "张伟" not in html and "Test Certification" not in html


def test_certificate_page_is_hidden_from_the_holder_until_release(app, bank, examiner,
                                                                  candidate):
    es = make_session(examiner, release="manual")
    enroll(es, candidate)
    attempt = sit(es, candidate)
    assert attempt.passed and certificate_of(attempt) is None  # issued with the release
    holder = logged_in(app, candidate)
    staff = logged_in(app, examiner)
    assert staff.post(f"/api/v1/exam-sessions/{es.id}/release").status_code == 200

    serial = certificate_of(attempt).serial
    page = holder.get(f"/certificates/{serial}")
    assert page.status_code == 200
    assert serial in page.get_data(as_text=True)


def test_verification_answers_in_utc_whatever_the_database_time_zone(app, cert):
    from examsys.certs import public
    from examsys.core.clock import iso

    serial, issued_at = cert.serial, cert.issued_at
    if db.engine.dialect.name == "postgresql":
        # PostgreSQL's reads go to the driver (core.driver): timestamps in the session's zone.
        db.session.execute(text("SET LOCAL TIME ZONE 'Asia/Shanghai'"))
    found = public.by_serial(db.session, serial)
    assert found.issued_at == issued_at
    assert iso(found.issued_at).endswith("Z") and iso(found.expires_at).endswith("Z")


def test_a_pass_not_yet_released_leaves_the_earlier_certificate_as_it_was(app, bank, examiner,
                                                                         candidate, client):
    """A new certificate is public and supersedes the holder's earlier one: issued before
    the release, either would tell the result (only a pass supersedes)."""
    earlier = make_session(examiner)
    enroll(earlier, candidate)
    first = certificate_of(sit(earlier, candidate))
    later = make_session(examiner, release="manual")
    enroll(later, candidate)
    attempt = sit(later, candidate)
    assert attempt.passed

    assert certificate_of(attempt) is None
    assert verify_json(client, serial=first.serial, name="张伟")["status"] == "valid"
    holder = logged_in(app, candidate)
    mine = holder.get("/certificates/").get_data(as_text=True)
    assert f'data-serial="{first.serial}" data-status="valid"' in mine

    scheduling.release_results(db.session, utcnow(), later, examiner.id)
    db.session.commit()
    second = certificate_of(attempt)
    assert second is not None
    body = verify_json(client, serial=first.serial, name="张伟")
    assert body["status"] == "superseded"
    assert body["certificate"]["superseded_by"] == second.serial
    assert verify_json(client, serial=second.serial, name="张伟")["status"] == "valid"


def test_the_sweeper_issues_the_certificates_of_a_closed_after_close_session(
        app, bank, examiner, candidate, other_candidate, clock):
    es = make_session(examiner, release="after_close")
    enroll(es, candidate)
    enroll(es, other_candidate)
    passed, failed = sit(es, candidate), sit(es, other_candidate, right=False)
    assert delivery.close_overdue(db.session, utcnow()) == 0
    assert certificate_of(passed) is None

    clock.move_to(es.closes_at)  # the last saves may still come in: the grace period
    delivery.close_overdue(db.session, utcnow())
    assert certificate_of(passed) is None

    clock.move_to(es.closes_at + timedelta(seconds=es.grace_seconds))
    delivery.close_overdue(db.session, utcnow())
    cert = certificate_of(passed)
    assert cert is not None and cert.issued_at == utcnow()
    assert certificate_of(failed) is None
    delivery.close_overdue(db.session, utcnow())  # once: a second sweep issues nothing more
    assert db.session.scalar(select(func.count(Certificate.id))) == 1


def after_close_with_an_own_window(examiner, candidate, other, own_closes) -> ExamSession:
    """An after-close session of both; ``other`` given each own window of ``own_closes``
    in turn (a time, or None to take it back)."""
    es = make_session(examiner, release="after_close")
    enroll(es, candidate, other)
    later = db.session.scalar(select(Enrollment).where(Enrollment.candidate_id == other.id))
    for closes_at in own_closes:
        integrity.set_accommodation(db.session, utcnow(), later.id, examiner.id,
                                    opens_at=closes_at and es.opens_at, closes_at=closes_at)
        db.session.commit()
    return es


def test_after_close_results_wait_for_the_last_candidates_own_window(
        app, bank, examiner, candidate, other_candidate, clock):
    own_close = utcnow() + timedelta(hours=5)  # two hours after the session's
    es = after_close_with_an_own_window(examiner, candidate, other_candidate, [own_close])
    attempt = sit(es, candidate)
    holder = logged_in(app, candidate)
    staff = logged_in(app, examiner)
    page = staff.get(f"/staff/sessions/{es.id}").get_data(as_text=True)
    released_at = own_close + timedelta(seconds=es.grace_seconds)
    assert f"{released_at:%Y-%m-%d %H:%M} UTC" in page
    assert "late saves are no longer accepted" in page

    # The session's window has closed; the other candidate may still be sitting.
    clock.move_to(es.closes_at + timedelta(minutes=5))
    delivery.close_overdue(db.session, utcnow())
    body = holder.get(f"/api/v1/attempts/{attempt.id}").get_json()
    assert (body["released"], body["result"]) == (False, None)
    assert certificate_of(attempt) is None

    clock.move_to(own_close)
    delivery.close_overdue(db.session, utcnow())
    assert holder.get(f"/api/v1/attempts/{attempt.id}").get_json()["released"] is False

    clock.move_to(released_at)
    delivery.close_overdue(db.session, utcnow())
    body = holder.get(f"/api/v1/attempts/{attempt.id}").get_json()
    assert body["released"] is True and body["result"]["passed"] is True
    cert = certificate_of(attempt)
    assert cert is not None and cert.issued_at == released_at


def test_an_own_window_taken_back_no_longer_holds_the_results(
        app, bank, examiner, candidate, other_candidate, clock):
    es = after_close_with_an_own_window(examiner, candidate, other_candidate,
                                        [utcnow() + timedelta(hours=5), None])
    attempt = sit(es, candidate)
    assert db.session.get(ExamSession, es.id).own_windows_close_at is None

    clock.move_to(es.closes_at + timedelta(seconds=es.grace_seconds))
    delivery.close_overdue(db.session, utcnow())
    assert certificate_of(attempt) is not None


def test_an_own_window_cannot_take_back_results_already_out(
        app, bank, examiner, candidate, other_candidate, clock):
    es = after_close_with_an_own_window(examiner, candidate, other_candidate, [])
    attempt = sit(es, candidate)
    clock.move_to(es.closes_at + timedelta(minutes=5))
    delivery.close_overdue(db.session, utcnow())
    assert certificate_of(attempt) is not None
    later = db.session.scalar(select(Enrollment).where(
        Enrollment.candidate_id == other_candidate.id))

    with pytest.raises(Conflict, match="results are released"):
        integrity.set_accommodation(db.session, utcnow(), later.id, examiner.id,
                                    opens_at=es.opens_at, closes_at=utcnow() + timedelta(hours=1))
    db.session.rollback()
    # Nor one that closed already but whose grace seconds would end after the release.
    with pytest.raises(Conflict, match="results are released"):
        integrity.set_accommodation(db.session, utcnow(), later.id, examiner.id,
                                    opens_at=es.opens_at, closes_at=es.closes_at + timedelta(
                                        seconds=es.grace_seconds // 2))
    db.session.rollback()
    # A window that closed before the results came out changes nothing: allowed.
    integrity.set_accommodation(db.session, utcnow(), later.id, examiner.id,
                                opens_at=es.opens_at, closes_at=es.closes_at - timedelta(hours=1))
    db.session.commit()
    holder = logged_in(app, candidate)
    assert holder.get(f"/api/v1/attempts/{attempt.id}").get_json()["released"] is True


def test_a_candidate_who_looks_before_the_sweeper_gets_the_certificate_then(
        app, bank, examiner, candidate, clock):
    es = make_session(examiner, release="after_close")
    enroll(es, candidate)
    attempt = sit(es, candidate)
    holder = logged_in(app, candidate)
    clock.move_to(es.closes_at + timedelta(seconds=es.grace_seconds + 5))

    page = holder.get(f"/attempts/{attempt.id}/result").get_data(as_text=True)
    cert = certificate_of(attempt)
    assert cert is not None and cert.serial in page
    delivery.close_overdue(db.session, utcnow())
    assert db.session.scalar(select(func.count(Certificate.id))) == 1
