"""The embedded SQLite database has one writer: when a storm of writes keeps a request
waiting past the busy timeout, the answer is 503 with Retry-After (the exam page's
autosave retries it), never a 500; any other database failure stays a 500."""

import sqlite3

import pytest
from sqlalchemy.exc import OperationalError

from examsys.exams import delivery

from .exam_support import start_through_api


def failing(message: str):
    def fail(*_args, **_kwargs):
        raise OperationalError("UPDATE attempt_item ...", {}, sqlite3.OperationalError(message))
    return fail


@pytest.fixture
def sitting(app, enrolled, candidate):
    api, attempt_id = start_through_api(app, enrolled, candidate)
    return api, f"/api/v1/attempts/{attempt_id}/items/1"


def test_a_locked_database_answers_503_with_retry_after(app, sitting, monkeypatch):
    api, url = sitting
    monkeypatch.setattr(delivery, "plain_save", failing("database is locked"))
    response = api.put(url, json={"response": None, "seq": 1})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "2"
    assert response.get_json()["error"]["code"] == "busy"
    monkeypatch.undo()
    assert api.put(url, json={"response": None, "seq": 1}).status_code == 200


def test_any_other_database_failure_is_a_500(app, sitting, monkeypatch):
    api, url = sitting
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as production does
    monkeypatch.setattr(delivery, "plain_save", failing("disk I/O error"))
    response = api.put(url, json={"response": None, "seq": 1})
    assert response.status_code == 500
