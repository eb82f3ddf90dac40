"""Scoring a closed attempt (sections, points, pass marks, partial credit) and when its
result is released to the candidate (immediate, after_close, manual)."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from examsys.bank import importer
from examsys.bank.types.base import DISPLAY_IDS
from examsys.certs.models import Certificate
from examsys.core.clock import utcnow
from examsys.exams import delivery, scheduling
from examsys.exams.models import Attempt, AttemptItem, AttemptState, ExamSession
from examsys.extensions import db

from .conftest import Api
from .exam_support import correct_response, enroll, wrong_response

# ---------------------------------------------------------------- helpers


@pytest.fixture
def clock():
    """Time frozen at a whole second of the present; move it with clock.move_to(...)."""
    with time_machine.travel(datetime.now(UTC).replace(microsecond=0), tick=False) as traveller:
        yield traveller


def make_session(examiner, *, release="immediate", certification="TEST-CERT",
                 closes_in=timedelta(hours=3)) -> ExamSession:
    now = utcnow()
    es = scheduling.create_session(db.session, now, certification_code=certification,
                                   opens_at=now - timedelta(hours=1), closes_at=now + closes_in,
                                   access_code=None, release=release, title="Scoring session",
                                   actor_id=examiner.id)
    db.session.commit()
    return es


def letters(item: AttemptItem, *original_ids: str) -> list[str]:
    """The display letters under which this attempt shows the given original options."""
    return sorted(DISPLAY_IDS[item.option_order.index(oid)] for oid in original_ids)


def sit(es, user, answer) -> Attempt:
    """Start, save ``answer(item)`` for every item (None = leave blank), submit."""
    now = utcnow()
    attempt, _form = delivery.start_or_resume(db.session, now, es.id, user.id)
    db.session.commit()
    items = db.session.scalars(select(AttemptItem).where(AttemptItem.attempt_id == attempt.id)
                               .order_by(AttemptItem.position)).all()
    for seq, item in enumerate(items, start=1):
        response = answer(item)
        if response is not None:
            delivery.save_response(db.session, now, attempt.id, user.id, item.position,
                                   response, seq)
    db.session.commit()
    delivery.submit(db.session, now, attempt.id, user.id)
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Attempt, attempt.id)


def by_section(attempt: Attempt) -> dict[str, dict]:
    return {s["key"]: s for s in attempt.sections}


def certificate_count(attempt_id: int) -> int:
    return db.session.scalar(select(func.count(Certificate.id))
                             .where(Certificate.attempt_id == attempt_id))


# A generated bank with one question type per section, so that every form is known:
# section chem (4 items × 2 points) and section safety (4 items × 1 point), 12 points.
SCORE_QUESTION = """\
  - key: S-{n:04d}
    topic: {topic}
    type: {qtype}
    levels: [engineer]
    difficulty: 1
    reference: Scoring handbook
    stem: {{en: "Scoring question {n}", zh: "计分题{n}"}}
    explanation: {{en: "Because", zh: "因为"}}
{extra}    options:
      - {{id: a, correct: true, text: {{en: "right one", zh: "对一"}}}}
      - {{id: b, correct: {b_correct}, text: {{en: "option b", zh: "选项b"}}}}
      - {{id: c, text: {{en: "wrong one", zh: "错一"}}}}
      - {{id: d, text: {{en: "wrong two", zh: "错二"}}}}
"""


def import_scoring_bank(tmp_path: Path, *, pass_mark: float = 60, safety_pass_mark=None,
                        chem_type: str = "multiple_choice", safety_type: str = "single_choice",
                        mc_scoring: str = "all_or_nothing") -> None:
    parts = ["topics:\n",
             "  - {key: schem, name: {en: Scoring chemistry, zh: 计分化学}}\n",
             "  - {key: ssafe, name: {en: Scoring safety, zh: 计分安全}}\n",
             "questions:\n"]
    for n in range(1, 25):
        topic, qtype = ("schem", chem_type) if n <= 12 else ("ssafe", safety_type)
        multiple = qtype == "multiple_choice"
        parts.append(SCORE_QUESTION.format(
            n=n, topic=topic, qtype=qtype, b_correct="true" if multiple else "false",
            extra=f"    scoring: {mc_scoring}\n" if multiple else ""))
    safety_pass = f", pass_mark: {safety_pass_mark}" if safety_pass_mark is not None else ""
    parts.append(f"""\
certifications:
  - code: SCORE-CERT
    name: {{en: "Scoring Certification", zh: "计分认证"}}
    level: engineer
    validity_months: 12
    blueprint:
      time_limit_minutes: 30
      pass_mark: {pass_mark}
      sections:
        - {{key: chem, title: {{en: Chemistry, zh: 化学}}, topics: [schem], levels: [engineer],
           count: 4, points: 2}}
        - {{key: safety, title: {{en: Safety, zh: 安全}}, topics: [ssafe], levels: [engineer],
           count: 4, points: 1{safety_pass}}}
""")
    path = tmp_path / "scoring_bank.yaml"
    path.write_text("".join(parts), encoding="utf-8")
    doc, problems = importer.read_files([path])
    assert problems == []
    importer.apply(db.session, utcnow(), doc, None)
    db.session.commit()


def right_counts(chem: int, safety: int):
    seen: dict[str, int] = {}
    quota = {"chem": chem, "safety": safety}

    def answer(item):
        seen[item.section] = seen.get(item.section, 0) + 1
        return correct_response(item) if seen[item.section] <= quota[item.section] \
            else wrong_response(item)

    return answer


# ---------------------------------------------------------------- scoring


def test_score_is_broken_down_by_section(app, enrolled, candidate):
    attempt = sit(enrolled, candidate,
                  lambda item: correct_response(item) if item.section == "chem"
                  else wrong_response(item))

    assert attempt.state == AttemptState.GRADED
    assert (attempt.score, attempt.max_score) == (8.0, 12.0)
    sections = by_section(attempt)
    assert [s["key"] for s in attempt.sections] == ["chem", "safety"]
    fields = ("score", "max", "percent", "passed")
    assert [sections["chem"][f] for f in fields] == [8.0, 8.0, 100.0, True]
    assert [sections["safety"][f] for f in fields] == [0.0, 4.0, 0.0, True]  # no section mark
    assert attempt.passed is True  # 8 of 12 = 66.67 % ≥ 60 %


def test_points_per_section_are_awarded_per_item(app, enrolled, candidate):
    attempt = sit(enrolled, candidate, right_counts(chem=1, safety=2))

    items = attempt.items
    assert sorted(i.points for i in items if i.section == "chem") == [2.0] * 4
    assert sorted(i.points for i in items if i.section == "safety") == [1.0] * 4
    assert sorted(i.awarded for i in items if i.section == "chem") == [0, 0, 0, 2.0]
    assert sorted(i.awarded for i in items if i.section == "safety") == [0, 0, 1.0, 1.0]
    assert (by_section(attempt)["chem"]["score"], by_section(attempt)["safety"]["score"]) == (
        2.0, 2.0)
    assert attempt.score == 4.0 and attempt.passed is False


def test_blank_answers_score_nothing(app, enrolled, candidate):
    attempt = sit(enrolled, candidate, lambda item: None)

    assert (attempt.score, attempt.max_score, attempt.passed) == (0.0, 12.0, False)
    assert all(i.awarded == 0 for i in attempt.items)
    assert certificate_count(attempt.id) == 0


@pytest.mark.parametrize(("chem", "safety", "passed"), [
    (4, 1, True),   # 9 of 12 = exactly 75 %
    (4, 0, False),  # 8 of 12 = 66.67 %
    (3, 3, True),   # 9 of 12 again, by another route
])
def test_pass_mark_at_exactly_the_boundary_passes(app, examiner, candidate, tmp_path,
                                                  chem, safety, passed):
    import_scoring_bank(tmp_path, pass_mark=75)
    es = make_session(examiner, certification="SCORE-CERT")
    enroll(es, candidate)

    attempt = sit(es, candidate, right_counts(chem=chem, safety=safety))

    assert attempt.passed is passed
    assert certificate_count(attempt.id) == (1 if passed else 0)


def test_failing_a_sections_pass_mark_fails_the_attempt(app, examiner, candidate, tmp_path):
    import_scoring_bank(tmp_path, pass_mark=60, safety_pass_mark=50)
    es = make_session(examiner, certification="SCORE-CERT")
    enroll(es, candidate)

    attempt = sit(es, candidate, right_counts(chem=4, safety=1))

    assert attempt.score == 9.0  # 75 % overall, above the pass mark of 60 %
    sections = by_section(attempt)
    assert sections["chem"]["passed"] is True
    assert (sections["safety"]["percent"], sections["safety"]["passed"]) == (25.0, False)
    assert attempt.passed is False
    assert certificate_count(attempt.id) == 0


def test_meeting_a_sections_pass_mark_exactly_passes(app, examiner, candidate, tmp_path):
    import_scoring_bank(tmp_path, pass_mark=60, safety_pass_mark=50)
    es = make_session(examiner, certification="SCORE-CERT")
    enroll(es, candidate)

    attempt = sit(es, candidate, right_counts(chem=4, safety=2))

    assert by_section(attempt)["safety"]["passed"] is True
    assert attempt.passed is True
    assert certificate_count(attempt.id) == 1


@pytest.mark.parametrize(("mode", "chem_awarded", "safety_awarded"), [
    ("partial", [1.0, 0.0, 2.0, 1.0], [0.5, 0.0, 0.0, 0.0]),
    ("all_or_nothing", [0.0, 0.0, 2.0, 0.0], [0.0, 0.0, 0.0, 0.0]),
])
def test_partial_credit_multiple_choice_gives_fractional_points(
        app, examiner, candidate, tmp_path, mode, chem_awarded, safety_awarded):
    import_scoring_bank(tmp_path, chem_type="multiple_choice", safety_type="multiple_choice",
                        mc_scoring=mode)
    es = make_session(examiner, certification="SCORE-CERT")
    enroll(es, candidate)
    # Keys are a and b. Per section, in order: one right of two; one right plus one wrong;
    # both right; both right plus one wrong.
    choices = [("a",), ("a", "c"), ("a", "b"), ("a", "b", "d")]
    seen: dict[str, int] = {}

    def answer(item):
        seen[item.section] = seen.get(item.section, 0) + 1
        if item.section == "safety" and seen["safety"] > 1:
            return None
        return letters(item, *choices[seen[item.section] - 1])

    attempt = sit(es, candidate, answer)

    chem = [i.awarded for i in attempt.items if i.section == "chem"]
    safety = [i.awarded for i in attempt.items if i.section == "safety"]
    assert (chem, safety) == (chem_awarded, safety_awarded)
    assert attempt.score == pytest.approx(sum(chem_awarded) + sum(safety_awarded))
    assert by_section(attempt)["safety"]["score"] == pytest.approx(sum(safety_awarded))


# ---------------------------------------------------------------- release


def sitter(app, user) -> Api:
    api = Api(app.test_client())
    assert api.login(user.email).status_code == 200
    return api


def pass_through_api(api: Api, es) -> int:
    attempt_id = api.post(f"/api/v1/exam-sessions/{es.id}/attempts", json={}).get_json()[
        "attempt_id"]
    items = db.session.scalars(select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
                               .order_by(AttemptItem.position)).all()
    for seq, item in enumerate(items, start=1):
        saved = api.put(f"/api/v1/attempts/{attempt_id}/items/{item.position}",
                        json={"response": correct_response(item), "seq": seq})
        assert saved.status_code == 200
    return attempt_id


def all_keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in all_keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in all_keys(v)}
    return set()


def test_immediate_release_shows_the_result_right_after_submit(app, enrolled, candidate):
    api = sitter(app, candidate)
    attempt_id = pass_through_api(api, enrolled)

    submitted = api.post(f"/api/v1/attempts/{attempt_id}/submit").get_json()
    read = api.get(f"/api/v1/attempts/{attempt_id}").get_json()

    for body in (submitted, read):
        assert body["released"] is True
        assert body["result"]["passed"] is True
        assert body["result"]["score"] == 12.0
        assert body["result"]["certificate"]["serial"].startswith("LB-")


def test_after_close_release_waits_for_the_window_to_close_and_its_grace(
        app, bank, examiner, candidate, clock):
    """A candidate whose deadline is the window's close may still save for the grace
    period: nobody learns a result (and its key) before that has passed too."""
    es = make_session(examiner, release="after_close")
    enroll(es, candidate)
    api = sitter(app, candidate)
    attempt_id = pass_through_api(api, es)

    submitted = api.post(f"/api/v1/attempts/{attempt_id}/submit").get_json()
    assert (submitted["state"], submitted["released"], submitted["result"]) == (
        AttemptState.GRADED, False, None)
    clock.move_to(es.closes_at - timedelta(seconds=1))
    assert api.get(f"/api/v1/attempts/{attempt_id}").get_json()["result"] is None

    clock.move_to(es.closes_at + timedelta(seconds=es.grace_seconds - 1))
    assert api.get(f"/api/v1/attempts/{attempt_id}").get_json()["result"] is None

    clock.move_to(es.closes_at + timedelta(seconds=es.grace_seconds))
    body = api.get(f"/api/v1/attempts/{attempt_id}").get_json()

    assert body["released"] is True
    assert body["result"]["score"] == 12.0 and body["result"]["passed"] is True
    assert body["result"]["certificate"] is not None


def test_manual_release_waits_for_the_examiner(app, bank, examiner, candidate, clock):
    es = make_session(examiner, release="manual")
    enroll(es, candidate)
    api = sitter(app, candidate)
    attempt_id = pass_through_api(api, es)
    assert api.post(f"/api/v1/attempts/{attempt_id}/submit").get_json()["result"] is None

    clock.move_to(es.closes_at + timedelta(days=1))
    assert api.get(f"/api/v1/attempts/{attempt_id}").get_json()["result"] is None
    assert api.post(f"/api/v1/exam-sessions/{es.id}/release").status_code == 403
    assert api.get(f"/api/v1/attempts/{attempt_id}").get_json()["result"] is None

    staff = sitter(app, examiner)
    released = staff.post(f"/api/v1/exam-sessions/{es.id}/release")
    assert released.status_code == 200
    body = api.get(f"/api/v1/attempts/{attempt_id}").get_json()

    assert body["released"] is True
    assert body["result"]["score"] == 12.0
    assert body["result"]["certificate"] is not None


def test_release_endpoint_refuses_sessions_that_release_by_themselves(app, enrolled, examiner):
    staff = sitter(app, examiner)

    response = staff.post(f"/api/v1/exam-sessions/{enrolled.id}/release")

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "not_manual"


@pytest.mark.parametrize("release", ["manual", "after_close"])
def test_unreleased_attempt_shows_the_candidate_no_key_score_or_certificate(
        app, bank, examiner, candidate, release):
    es = make_session(examiner, release=release)
    enroll(es, candidate)
    api = sitter(app, candidate)
    attempt_id = pass_through_api(api, es)
    api.post(f"/api/v1/attempts/{attempt_id}/submit")
    # It passed; the certificate waits for the release (it would be public, and it would
    # supersede an earlier one). Nothing in the answers may carry a serial either.
    assert db.session.scalar(select(Certificate.serial)
                             .where(Certificate.attempt_id == attempt_id)) is None
    serial = "LB-"

    for response in (api.get(f"/api/v1/attempts/{attempt_id}"),
                     api.post(f"/api/v1/attempts/{attempt_id}/submit"),
                     api.post(f"/api/v1/exam-sessions/{es.id}/attempts", json={})):
        body = response.get_json()
        if response.status_code != 200:  # starting again: no attempts left
            assert body["error"]["code"] == "no_attempts_left"
            continue
        assert body["result"] is None and body["released"] is False
        leaked = all_keys(body) & {"key", "score", "max_score", "awarded", "fraction",
                                   "canonical_response", "passed", "percent", "certificate",
                                   "verify_token", "serial", "sections"}
        assert leaked == set()
        assert serial not in response.get_data(as_text=True)
    page = api.get(f"/attempts/{attempt_id}/result").get_data(as_text=True)
    # The score as the page would print it ("12.0 of 12.0", "12.0 / 6.0"); a bare "12.0"
    # also occurs in a time stamp such as 05:48:12.082845.
    assert serial not in page and not re.search(r"\b12\.0\b", page)


def test_examiner_sees_keys_scores_and_responses_before_release(app, bank, examiner,
                                                                candidate):
    es = make_session(examiner, release="manual")
    enroll(es, candidate)
    api = sitter(app, candidate)
    attempt_id = pass_through_api(api, es)
    api.post(f"/api/v1/attempts/{attempt_id}/submit")
    rows = db.session.scalars(select(AttemptItem).where(AttemptItem.attempt_id == attempt_id)
                              .order_by(AttemptItem.position)).all()

    body = sitter(app, examiner).get(f"/api/v1/attempts/{attempt_id}").get_json()

    assert body["released"] is False
    assert body["candidate"]["email"] == candidate.email
    assert body["result"]["score"] == 12.0 and body["result"]["passed"] is True
    assert body["result"]["certificate"] is None  # issued with the release
    assert len(body["items"]) == 8
    for view, row in zip(body["items"], rows, strict=True):
        assert view["key"] == correct_response(row)
        assert view["response"] == correct_response(row)
        assert view["canonical_response"] == row.response
        assert view["awarded"] == row.points and view["fraction"] == 1.0
