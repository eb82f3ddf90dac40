"""Two tabs of one browser saving the same item at once: exactly one final answer, equal to
the highest accepted sequence number, never a blank (SQLite and PostgreSQL alike)."""

import itertools
import threading

import pytest
from sqlalchemy import select

from examsys.core.clock import utcnow
from examsys.exams.models import AttemptItem, Blueprint, Certification, ResponseEvent
from examsys.extensions import db

from .conftest import Api
from .exam_support import enroll, make_session

SAVES_PER_TAB = 100  # two tabs: 200 saves of the same item


@pytest.fixture
def enrolled(app, bank, examiner, candidate):
    """A session whose form is all numeric items, so every run saves a number."""
    cert = db.session.scalar(select(Certification).where(Certification.code == "TEST-CERT"))
    blueprint = Blueprint(certification_id=cert.id, time_limit_minutes=30, pass_mark=60,
                          created_at=utcnow(), sections=[{
                              "key": "calc", "title": {"en": "Calculations"},
                              "topics": ["chem", "safety"], "levels": ["engineer"],
                              "types": ["numeric"], "count": 2, "points": 1}])
    db.session.add(blueprint)
    db.session.flush()
    cert.current_blueprint_id = blueprint.id
    db.session.commit()
    es = make_session(examiner)
    enroll(es, candidate)
    return es


def test_two_tabs_saving_one_item_200_times_leave_the_newest_answer(app, enrolled, candidate):
    first = Api(app.test_client())
    assert first.login(candidate.email).status_code == 200
    attempt = first.post(f"/api/v1/exam-sessions/{enrolled.id}/attempts", json={}).get_json()
    numeric = next(i for i in attempt["items"] if i["type"] == "numeric")
    url = f"/api/v1/attempts/{attempt['attempt_id']}/items/{numeric['position']}"
    # The second tab shares the first one's cookie: the same browser, the same login.
    second = Api(app.test_client())
    second.token = first.token
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = first.client.get_cookie(name, domain=app.config["SERVER_NAME"] or "localhost")
    second.client.set_cookie(name, cookie.value, domain=cookie.domain)
    counter, lock = itertools.count(1), threading.Lock()
    accepted, problems = [], []

    def tab(api):
        for _ in range(SAVES_PER_TAB):
            with lock:
                seq = next(counter)
            response = api.put(url, json={"response": float(seq), "seq": seq})
            if response.status_code == 200:
                with lock:
                    accepted.append(seq)
            elif response.get_json()["error"]["code"] != "stale_seq":
                problems.append(response.get_json())

    threads = [threading.Thread(target=tab, args=(api,)) for api in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert problems == []
    db.session.expire_all()
    item = db.session.scalar(select(AttemptItem).where(
        AttemptItem.attempt_id == attempt["attempt_id"],
        AttemptItem.position == numeric["position"]))
    assert item.last_seq == max(accepted)
    assert item.response == float(max(accepted))
    seqs = db.session.scalars(select(ResponseEvent.seq).where(
        ResponseEvent.attempt_item_id == item.id).order_by(ResponseEvent.id)).all()
    # Every acknowledged save is in the log (none acknowledged and then lost).
    assert sorted(set(accepted) - set(seqs)) == []
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)) == len(accepted)
    assert None not in db.session.scalars(select(ResponseEvent.response)).all()
