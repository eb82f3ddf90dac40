# ruff: noqa: F811 - pytest fixtures imported from test_certificates
"""Suspension, revocation, reinstatement, renewal (re-examination and continuing education),
expiry reminders: each shows on verification at once and appends to an immutable history."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from examsys.certs import lifecycle, services
from examsys.certs.models import Certificate, CertificateEvent
from examsys.core.audit import AuditEvent
from examsys.core.clock import utcnow
from examsys.core.errors import Conflict, Invalid
from examsys.extensions import db

from .conftest import Api
from .test_certificates import (
    cert,  # noqa: F401 - the fixture
    certificate_of,
    clock,  # noqa: F401 - the fixture
    enroll,
    make_session,
    sit,
    verify_json,
    verify_page_by_token,
)


def kinds(c: Certificate) -> list[str]:
    return [e.kind for e in lifecycle.history(db.session, c)]


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count(Certificate.id))),
            db.session.scalar(select(func.count(CertificateEvent.id))),
            db.session.scalar(select(func.count(AuditEvent.id))))


def test_suspend_shows_at_once_and_reinstate_restores(app, cert, examiner, client):
    token = services.token_for(cert)
    lifecycle.suspend(db.session, utcnow(), cert.serial, "Under investigation", examiner.id)
    db.session.commit()

    body = verify_json(client, token=token)
    assert (body["status"], body["reason"]) == ("suspended", "suspended")
    assert body["certificate"]["suspension_reason"] == "Under investigation"
    (status, _r), html = verify_page_by_token(client, token)
    assert status == "suspended" and "Under investigation" in html

    lifecycle.reinstate(db.session, utcnow(), cert.serial, "Cleared", examiner.id)
    db.session.commit()
    assert verify_json(client, token=token)["status"] == "valid"
    assert kinds(cert) == ["issued", "suspended", "reinstated"]
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "certificate")).all()
    assert {"certificate.suspended", "certificate.reinstated"} <= set(actions)


def test_revoke_from_suspension_is_final(app, cert, examiner, client):
    lifecycle.suspend(db.session, utcnow(), cert.serial, "Investigation", examiner.id)
    lifecycle.revoke(db.session, utcnow(), cert.serial, "Misconduct proven", examiner.id)
    db.session.commit()
    before = counts()

    with pytest.raises(Conflict):
        lifecycle.reinstate(db.session, utcnow(), cert.serial, "oops", examiner.id)
    with pytest.raises(Conflict):
        lifecycle.revoke(db.session, utcnow(), cert.serial, "again", examiner.id)
    db.session.rollback()

    assert counts() == before
    assert verify_json(client, serial=cert.serial, name="张伟")["status"] == "revoked"


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_status_change_needs_a_reason(app, cert, examiner, reason):
    before = counts()
    with pytest.raises(Invalid):
        lifecycle.suspend(db.session, utcnow(), cert.serial, reason, examiner.id)
    db.session.rollback()
    assert counts() == before


def test_passing_again_supersedes_the_old_certificate(app, bank, examiner, candidate, client):
    first = certificate_of(sit(_session(examiner, candidate), candidate))
    second = certificate_of(sit(_session(examiner, candidate), candidate))

    db.session.expire_all()
    old = db.session.get(Certificate, first.id)
    assert old.state == "superseded" and old.superseded_by_id == second.id
    body = verify_json(client, serial=old.serial, name="张伟")
    assert (body["status"], body["certificate"]["superseded_by"]) == ("superseded",
                                                                      second.serial)
    assert verify_json(client, serial=second.serial, name="张伟")["status"] == "valid"
    assert second.renews_id == old.id
    assert kinds(old) == ["issued", "superseded"]


def _session(examiner, candidate):
    es = make_session(examiner)
    enroll(es, candidate)
    return es


def test_renewal_by_education_supersedes_and_extends(app, cert, examiner, client, clock):
    old_expiry = cert.expires_at
    clock.move_to(old_expiry - timedelta(days=30))
    with pytest.raises(Invalid):
        lifecycle.renew_by_education(db.session, utcnow(), cert.serial, 10, "", examiner.id)
    db.session.rollback()

    new = lifecycle.renew_by_education(db.session, utcnow(), cert.serial, 40, "Course A",
                                       examiner.id)
    db.session.commit()

    assert new.basis == "education" and new.attempt_id is None
    assert new.expires_at == services.add_months(old_expiry, 24)
    old = verify_json(client, token=services.token_for(cert))
    assert (old["status"], old["certificate"]["superseded_by"]) == ("superseded", new.serial)
    assert verify_json(client, serial=new.serial, name="张伟")["status"] == "valid"


def test_renewal_too_early_is_refused(app, cert, examiner):
    with pytest.raises(Conflict):
        lifecycle.renew_by_education(db.session, utcnow(), cert.serial, 50, "", examiner.id)


def test_reminders_are_recorded_once_per_horizon(app, cert, clock, runner):
    clock.move_to(cert.expires_at - timedelta(days=100))
    assert lifecycle.send_reminders(db.session, utcnow(), 90) == []
    clock.move_to(cert.expires_at - timedelta(days=60))
    result = runner.invoke(args=["remind-expiring", "--days", "90"])
    assert result.exit_code == 0 and cert.serial in result.output
    again = runner.invoke(args=["remind-expiring", "--days", "90"])
    assert cert.serial not in again.output
    assert kinds(cert).count("reminded") == 1


def test_holder_sees_the_reminder_in_app(app, cert, candidate, clock):
    clock.move_to(cert.expires_at - timedelta(days=10))
    holder = Api(app.test_client())
    holder.login(candidate.email)
    assert 'id="expiry-reminder"' in holder.get(
        f"/certificates/{cert.serial}").get_data(as_text=True)
    assert "reminder" in holder.get("/certificates/").get_data(as_text=True)


def test_examiner_suspends_through_the_api_and_cli(app, cert, examiner, runner, client):
    staff = Api(app.test_client())
    staff.login(examiner.email)
    bad = staff.post(f"/api/v1/certificates/{cert.serial}/suspend", json={"reason": ""})
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "reason_required"
    ok = staff.post(f"/api/v1/certificates/{cert.serial}/suspend", json={"reason": "Check"})
    assert ok.status_code == 200 and ok.get_json()["status"] == "suspended"
    result = runner.invoke(args=["revoke", cert.serial, "--reason", "Fraud",
                                 "--by", examiner.email])
    assert result.exit_code == 0, result.output
    assert verify_json(client, serial=cert.serial, name="张伟")["status"] == "revoked"


def test_candidate_cannot_change_a_status(app, cert, candidate):
    holder = Api(app.test_client())
    holder.login(candidate.email)
    response = holder.post(f"/api/v1/certificates/{cert.serial}/reinstate",
                           json={"reason": "x"})
    assert response.status_code == 403
