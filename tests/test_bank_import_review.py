"""An import is authoring in bulk: an examiner's questions marked active go to review, for
another examiner to approve (four eyes), exactly as an edit in the bank's pages would.
Administrators and the system (``examsys import-bank``) load reviewed banks as declared."""

import io

import pytest
from sqlalchemy import select

from examsys.accounts.models import Role
from examsys.bank import curation, importer
from examsys.bank.interchange import service
from examsys.bank.interchange.common import ImportOptions
from examsys.bank.models import Question, QuestionVersion, Status
from examsys.core.clock import utcnow
from examsys.core.errors import Forbidden
from examsys.extensions import db

from .conftest import MINI_BANK, add_user, csrf_from, login_page
from .test_bank_import import VALID_DOC

# Two questions: GOOD-0001 (active by default) and GOOD-0002, declared a draft.
DOC = VALID_DOC.replace("    difficulty: 2\n", "    difficulty: 2\n    status: draft\n")


def upload(client, name: str, content: bytes):
    page = client.get("/bank/import")
    return client.post("/bank/import", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def signed_in(app, user):
    client = app.test_client()
    assert login_page(client, user.email).status_code == 302
    return client


def status(key: str) -> str:
    db.session.expire_all()
    return db.session.scalar(select(Question.status).where(Question.external_key == key))


def test_an_examiners_import_sends_active_questions_to_review(app, examiner):
    response = upload(signed_in(app, examiner), "bank.yaml", DOC.encode())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1 question marked active was sent for review" in page
    assert status("GOOD-0001") == Status.REVIEW
    assert status("GOOD-0002") == Status.DRAFT  # declared draft: stays draft


def test_another_examiner_approves_what_the_importer_cannot(app, examiner):
    upload(signed_in(app, examiner), "bank.yaml", DOC.encode())
    q = db.session.scalar(select(Question).where(Question.external_key == "GOOD-0001"))
    with pytest.raises(Forbidden):
        curation.transition(db.session, utcnow(), examiner.id, q, "approve")
    db.session.rollback()
    colleague = add_user(Role.EXAMINER, "colleague@example.com.cn")
    q = db.session.scalar(select(Question).where(Question.external_key == "GOOD-0001"))
    curation.transition(db.session, utcnow(), colleague.id, q, "approve")
    db.session.commit()
    assert status("GOOD-0001") == Status.ACTIVE


def test_an_unchanged_active_question_stays_active_and_a_changed_one_goes_to_review(
        app, examiner):
    doc, problems = importer.read_upload("bank.yaml", DOC.encode())
    importer.apply(db.session, utcnow(), doc, None)  # the system publishes
    db.session.commit()
    assert status("GOOD-0001") == Status.ACTIVE
    again = upload(signed_in(app, examiner), "bank.yaml", DOC.encode())
    assert "sent for review" not in again.get_data(as_text=True)
    assert status("GOOD-0001") == Status.ACTIVE
    changed = DOC.replace("Lithium is a metal.", "Lithium is an alkali metal.")
    response = upload(signed_in(app, examiner), "bank.yaml", changed.encode())
    assert "1 question marked active was sent for review" in response.get_data(as_text=True)
    assert status("GOOD-0001") == Status.REVIEW
    versions = db.session.scalars(select(QuestionVersion.number).join(
        Question, Question.id == QuestionVersion.question_id).where(
        Question.external_key == "GOOD-0001").order_by(QuestionVersion.number)).all()
    assert versions == [1, 2]  # the reviewed first version is kept, never rewritten


def test_an_administrators_import_publishes_as_declared(app):
    admin = add_user(Role.ADMIN, "admin@example.com.cn")
    response = upload(signed_in(app, admin), "mini_bank.yaml", MINI_BANK.read_bytes())
    assert response.status_code == 200
    assert "sent for review" not in response.get_data(as_text=True)
    assert db.session.scalar(select(Question.status).limit(1)) == Status.ACTIVE


def test_blueprints_are_checked_against_the_statuses_the_import_really_gives(app, examiner):
    """An examiner's copy of the mini bank would leave its certification nothing active to
    draw: refused whole, saying so, instead of scheduling exams that cannot start."""
    response = upload(signed_in(app, examiner), "mini_bank.yaml", MINI_BANK.read_bytes())
    assert response.status_code == 422
    assert "active items match" in response.get_data(as_text=True)
    assert db.session.scalar(select(Question.id).limit(1)) is None


def test_interchange_imports_follow_the_same_rule(app, examiner):
    gift = "::GIFT-1:: LFP cells have a nominal voltage of about 3.2 V. {TRUE}\n"
    options = ImportOptions(topic="chem", levels=["engineer"], difficulty=2,
                            status=Status.ACTIVE, lang="en", encoding="utf-8")
    importer.apply(db.session, utcnow(), importer.read_upload("t.yaml", DOC.encode())[0], None)
    prepared = service.prepare(db.session, [service.Upload("q.gift", gift.encode(), "gift")],
                               options)
    assert prepared.problems == []
    report = service.commit(db.session, utcnow(), prepared, examiner.id)
    db.session.commit()
    assert report.to_review == 1
    assert db.session.scalar(select(Question.status).where(
        Question.external_key != "GOOD-0001", Question.external_key != "GOOD-0002")) == \
        Status.REVIEW
