"""Helpers shared by the exam delivery, marking and integrity tests (not a test module)."""

from datetime import timedelta

from sqlalchemy import select

from examsys.bank import importer
from examsys.bank.types import get_type
from examsys.core.clock import utcnow
from examsys.exams import delivery, scheduling
from examsys.exams.models import Attempt, AttemptItem, Blueprint, Certification, ExamSession
from examsys.extensions import db

ESSAY_BANK = """\
topics:
  - {key: essays, name: {en: Essays, zh: 论述}}
questions:
""" + "".join(f"""\
  - key: E-{n:04d}
    topic: essays
    type: essay
    levels: [engineer]
    difficulty: 2
    reference: Essay handbook
    stem: {{en: "Explain thermal runaway {n}", zh: "解释热失控{n}"}}
    explanation: {{en: "Because", zh: "因为"}}
    rubric:
      - {{id: cause, criterion: {{en: Causes, zh: 原因}}, points: 4}}
      - {{id: control, criterion: {{en: Controls, zh: 控制}}, points: 6}}
""" for n in range(1, 5)) + """\
certifications:
  - code: ESSAY-CERT
    name: {en: "Essay Certification", zh: "论述认证"}
    level: engineer
    validity_months: 12
    blueprint:
      time_limit_minutes: 30
      pass_mark: 60
      sections:
        - key: chem
          title: {en: Chemistry, zh: 化学}
          topics: [chem]
          levels: [engineer]
          count: 2
          points: 1
        - key: essay
          title: {en: Essay, zh: 论述}
          topics: [essays]
          types: [essay]
          levels: [engineer]
          count: 1
          points: 10
"""


def import_bank(name: str, text: str) -> None:
    """Import a bank document given as YAML text (published), and commit."""
    doc, problems = importer.read_upload(name, text.encode())
    assert problems == [], problems
    importer.apply(db.session, utcnow(), doc, None)
    db.session.commit()


def import_essay_bank(*, double_marking=False, tolerance=0.0, sequential=False) -> Certification:
    """The mini bank must be loaded; adds essays and ESSAY-CERT (2 objective + 1 essay)."""
    import_bank("essays.yaml", ESSAY_BANK)
    cert = db.session.scalar(select(Certification).where(Certification.code == "ESSAY-CERT"))
    set_blueprint_options(cert, double_marking=double_marking, marking_tolerance=tolerance,
                          sequential=sequential)
    return cert


def set_blueprint_options(cert: Certification, **options) -> Blueprint:
    """Blueprints are immutable: a changed one is a new row made current."""
    old = cert.current_blueprint
    new = Blueprint(certification_id=cert.id, time_limit_minutes=old.time_limit_minutes,
                    pass_mark=old.pass_mark, shuffle_options=old.shuffle_options,
                    sections=old.sections, created_at=utcnow(),
                    **{k: options.get(k, getattr(old, k))
                       for k in ("sequential", "double_marking", "marking_tolerance")})
    db.session.add(new)
    db.session.flush()
    cert.current_blueprint_id = new.id
    db.session.commit()
    return new


def make_session(examiner, code="TEST-CERT", *, release="immediate", access_code=None,
                 opens_in=timedelta(hours=-1), closes_in=timedelta(hours=3)) -> ExamSession:
    now = utcnow()
    es = scheduling.create_session(db.session, now, certification_code=code,
                                   opens_at=now + opens_in, closes_at=now + closes_in,
                                   access_code=access_code, release=release,
                                   title=f"{code} session", actor_id=examiner.id)
    db.session.commit()
    return es


def enroll(es, *users) -> None:
    scheduling.enroll(db.session, utcnow(), es, [scheduling.EnrollRow(u.email) for u in users],
                      actor_id=None)
    db.session.commit()


def items_of(attempt_id: int) -> list[AttemptItem]:
    return db.session.scalars(select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
                              .order_by(AttemptItem.position)).all()


def correct_response(item: AttemptItem):
    qtype = get_type(item.version.type)
    if not qtype.auto_graded:
        return "Separator shutdown, venting, and a BMS that cuts the current."
    return qtype.display(item.option_order, qtype.key(item.version.payload))


def wrong_response(item: AttemptItem):
    """A valid answer to an objective item that is not the right one."""
    kind = item.version.type
    right = correct_response(item)
    if kind == "single_choice":
        return next(letter for letter in "ABCD" if letter != right)
    if kind == "multiple_choice":
        return [next(letter for letter in "ABCD" if letter not in right)]
    if kind == "true_false":
        return not right
    return right + 100.0


def sit(es, user, answer=correct_response, submit=True) -> Attempt:
    """Start, save ``answer(item)`` for every item (None = leave blank), submit."""
    now = utcnow()
    attempt, _form = delivery.start_or_resume(db.session, now, es.id, user.id)
    db.session.commit()
    for seq, item in enumerate(items_of(attempt.id), start=1):
        response = answer(item)
        if response is not None:
            delivery.save_response(db.session, now, attempt.id, user.id, item.position,
                                   response, seq)
    db.session.commit()
    if submit:
        delivery.submit(db.session, now, attempt.id, user.id)
        db.session.commit()
    db.session.expire_all()
    return db.session.get(Attempt, attempt.id)


def essay_item(attempt: Attempt) -> AttemptItem:
    return next(i for i in items_of(attempt.id) if i.version.type == "essay")


def start_through_api(app, es, user):
    """A candidate's API client, logged in, with an attempt started: (client, attempt id)."""
    from .conftest import Api

    api = Api(app.test_client())
    assert api.login(user.email).status_code == 200
    attempt_id = api.post(f"/api/v1/exam-sessions/{es.id}/attempts", json={}) \
        .get_json()["attempt_id"]
    return api, attempt_id
