"""Curating the bank in the browser: authoring every type, versions and their diff, the
review workflow with four eyes, bulk actions, images, safe question text, query counts."""

import re

import pytest
from sqlalchemy import event, func, select

from examsys.accounts.models import Role
from examsys.bank import curation
from examsys.bank.models import Question, QuestionComment, QuestionVersion, Status
from examsys.bank.rendering import to_html
from examsys.bank.types import REGISTRY
from examsys.core.audit import AuditEvent
from examsys.core.clock import utcnow
from examsys.core.errors import Conflict, Forbidden, Invalid
from examsys.extensions import db
from tests.conftest import add_user, csrf_from, login_page

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def reviewer(app):
    return add_user(Role.EXAMINER, "reviewer@example.com", "Li Reviewer")


def logged_in(app, user):
    client = app.test_client()
    assert login_page(client, user.email).status_code == 302
    return client


def form_of(html: str) -> dict:
    """The fields of the question form as a browser would send them (no buttons)."""
    data = {}
    for m in re.finditer(r'<input ([^>]*)>', html):
        attrs = dict(re.findall(r'(\w[\w-]*)="([^"]*)"', m.group(1)))
        if attrs.get("type") in ("submit", "search") or "name" not in attrs:
            continue
        if attrs.get("type") == "checkbox":
            if "checked" in m.group(1):
                data.setdefault(attrs["name"], []).append(attrs.get("value", "y"))
            continue
        data[attrs["name"]] = attrs.get("value", "")
    for m in re.finditer(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        data[m.group(1)] = m.group(2).strip()
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', m.group(2)) or \
            re.search(r'<option[^>]*value="([^"]*)"', m.group(2))
        data[m.group(1)] = chosen.group(1) if chosen else ""
    return data


def test_examiner_writes_an_ordering_question_adding_and_removing_rows(app, examiner, bank):
    client = logged_in(app, examiner)
    page = client.get("/bank/questions/new?type=ordering").get_data(as_text=True)
    data = form_of(page)
    assert "options-3-id" in data and "options-4-id" not in data
    data["add:options"] = "1"
    page = client.post("/bank/questions/new?type=ordering", data=data).get_data(as_text=True)
    data = form_of(page)
    assert "options-4-id" in data  # a fifth row appeared, nothing saved
    data["remove:options:0"] = "1"
    page = client.post("/bank/questions/new?type=ordering", data=data).get_data(as_text=True)
    data = form_of(page)
    assert "options-0-id" not in data and "options-4-id" in data
    steps = ["mix", "coat", "press", "slit"]
    data.update({"key": "T-ORD-1", "topic": "chem/cells", "levels": ["engineer"],
                 "difficulty": "2", "stem_en": "Order the steps", "stem_zh": "排序",
                 "tags": "process, 工艺", "reference": "GB/T 1 4.2"})
    for i, step in zip(range(1, 5), steps, strict=True):
        data.update({f"options-{i}-id": step, f"options-{i}-text_en": step.title(),
                     f"options-{i}-text_zh": step + "中"})
    response = client.post("/bank/questions/new?type=ordering", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    question = db.session.scalar(select(Question).where(Question.external_key == "T-ORD-1"))
    assert question.status == Status.DRAFT
    version = question.current_version
    assert [o["id"] for o in version.payload["options"]] == steps
    assert version.tags == ["process", "工艺"] and version.author_id == examiner.id
    preview = client.get(f"/bank/questions/{question.id}").get_data(as_text=True)
    assert "Mix → Coat → Press → Slit" in preview and 'class="order-move"' in preview
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "question.create")) == 1
    assert client.get("/bank/?tag=工艺").get_data(as_text=True).count(">T-ORD-1</a>") == 1
    assert ">T-ORD-1</a>" not in client.get("/bank/?tag=工").get_data(as_text=True)


def test_the_form_reports_every_problem_and_keeps_what_was_typed(app, examiner, bank):
    client = logged_in(app, examiner)
    data = form_of(client.get("/bank/questions/new?type=short_text").get_data(as_text=True))
    data.update({"key": "bad key", "topic": "chem", "difficulty": "9", "stem_en": "Solvent?",
                 "pattern": "(unclosed"})
    response = client.post("/bank/questions/new?type=short_text", data=data)
    assert response.status_code == 400  # the difficulty range is a form-level check
    data["difficulty"] = "2"
    response = client.post("/bank/questions/new?type=short_text", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("key:", "levels:", "answers:", "pattern:"):
        assert field in html
    assert "Solvent?" in html
    assert db.session.scalar(select(func.count()).select_from(Question)) == 24


@pytest.mark.parametrize("qtype", sorted(REGISTRY))
def test_every_type_can_be_created_in_the_browser_and_previewed(app, examiner, bank, qtype):
    client = logged_in(app, examiner)
    url = f"/bank/questions/new?type={qtype}"
    data = form_of(client.get(url).get_data(as_text=True))
    data.update({"key": f"T-NEW-{qtype.upper().replace('_', '-')}", "topic": "safety",
                 "levels": ["engineer", "skill_3"], "difficulty": "3",
                 "stem_en": "How **much**? $E = CV$", "stem_zh": "多少？"})
    both = {"_en": "x", "_zh": "乙"}
    if "options" in REGISTRY[qtype].fields:
        for i in range(4):
            data.update({f"options-{i}-text{k}": f"{v}{i}" for k, v in both.items()})
        data["options-0-correct"] = "y"
        if qtype == "multiple_choice":
            data["options-1-correct"] = "y"
    answers = {"true_false": {"answer": "true"},
               "numeric": {"answer": "3.2", "tolerance": "0.1", "unit": "V"},
               "numeric_unit": {"answer": "2.5", "tolerance": "0.01", "unit": "Ah",
                                "tolerance_kind": "absolute", "units": "Ah, mAh"},
               "short_text": {"answers": "NMP\nN-甲基吡咯烷酮"}}
    data.update(answers.get(qtype, {}))
    if qtype == "matching":
        for i in range(3):
            data.update({f"pairs-{i}-prompt_en": f"p{i}", f"pairs-{i}-prompt_zh": f"问{i}",
                         f"pairs-{i}-match_en": f"m{i}", f"pairs-{i}-match_zh": f"答{i}"})
    if qtype == "essay":
        data.update({"rubric-0-criterion_en": "Safe", "rubric-0-criterion_zh": "安全",
                     "word_limit": "200"})
    response = client.post(url, data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    preview = client.get(response.headers["Location"])
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "<strong>much</strong>" in html and "$E = CV$" in html
    assert f'data-type="{qtype}"' in html
    assert "bank_math.js" in html and "vendor/katex/katex.min.js" in html


def test_editing_appends_a_version_and_the_history_shows_the_diff(app, examiner, bank):
    client = logged_in(app, examiner)
    question = db.session.scalar(select(Question).where(Question.external_key == "T-0001"))
    old_version_id = question.current_version_id
    url = f"/bank/questions/{question.id}/edit"
    data = form_of(client.get(url).get_data(as_text=True))
    assert data["stem_en"] == "Question 1 stem" and data["options-0-correct"] == ["y"]
    data["stem_en"] = "Question 1 stem, clarified"
    data.pop("options-0-correct")
    data["options-1-correct"] = "y"
    assert client.post(url, data=data).status_code == 303
    db.session.expire_all()
    question = db.session.get(Question, question.id)
    assert question.current_version.number == 2
    assert question.status == Status.DRAFT  # was active: the change needs a review
    assert db.session.get(QuestionVersion, old_version_id).payload["stem"]["en"] == \
        "Question 1 stem"  # the old version is untouched
    html = client.get(f"/bank/questions/{question.id}/history").get_data(as_text=True)
    assert "stem.en" in html and "Question 1 stem, clarified" in html
    assert "options[a].correct" in html and "key" in html
    # Saving again without changes adds nothing.
    assert client.post(url, data=data).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(QuestionVersion).where(
        QuestionVersion.question_id == question.id)) == 2


def test_review_needs_a_second_examiner_and_a_reason_to_send_back(app, examiner, reviewer,
                                                                  bank):
    question = db.session.scalar(select(Question).where(Question.external_key == "T-0001"))
    now = utcnow()
    rec_author = examiner.id
    question.current_version.author_id = rec_author  # written by the examiner
    question.status = Status.DRAFT
    db.session.commit()
    curation.transition(db.session, now, examiner.id, question, "submit")
    with pytest.raises(Forbidden):
        curation.transition(db.session, now, examiner.id, question, "approve")
    with pytest.raises(Invalid):
        curation.transition(db.session, now, reviewer.id, question, "reject", " ")
    curation.transition(db.session, now, reviewer.id, question, "reject", "Stem unclear")
    assert question.status == Status.DRAFT
    with pytest.raises(Conflict):
        curation.transition(db.session, now, reviewer.id, question, "approve")
    curation.transition(db.session, now, examiner.id, question, "submit")
    db.session.commit()
    # Through the page: the author sees no approve button; the reviewer approves.
    author_page = logged_in(app, examiner).get(f"/bank/questions/{question.id}")
    assert 'value="approve"' not in author_page.get_data(as_text=True)
    client = logged_in(app, reviewer)
    page = client.get(f"/bank/questions/{question.id}").get_data(as_text=True)
    response = client.post(f"/bank/questions/{question.id}/workflow",
                           data={"csrf_token": csrf_from(page), "action": "approve",
                                 "comment": "Good"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Question, question.id).status == Status.ACTIVE
    actions = db.session.scalars(select(QuestionComment.action).where(
        QuestionComment.question_id == question.id).order_by(QuestionComment.id)).all()
    assert actions == ["submit", "reject", "submit", "approve"]
    audits = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "question")).all()
    assert audits.count("question.approve") == 1 and audits.count("question.reject") == 1
    html = client.get(f"/bank/questions/{question.id}").get_data(as_text=True)
    assert "Stem unclear" in html and "Li Reviewer" in html


def test_workflow_post_without_csrf_is_refused(app, examiner, bank):
    client = logged_in(app, examiner)
    question = db.session.scalar(select(Question).where(Question.external_key == "T-0001"))
    response = client.post(f"/bank/questions/{question.id}/workflow",
                           data={"action": "retire"})
    assert response.status_code in (302, 303, 400)
    db.session.expire_all()
    assert db.session.get(Question, question.id).status == Status.ACTIVE


def test_bulk_actions_retire_and_move_with_audit(app, examiner, bank):
    client = logged_in(app, examiner)
    page = client.get("/bank/?topic=chem").get_data(as_text=True)
    ids = [str(i) for i in db.session.scalars(select(Question.id).order_by(Question.id)
                                              .limit(3))]
    response = client.post("/bank/bulk", data={"csrf_token": csrf_from(page), "ids": ids,
                                               "action": "retire", "topic": ""})
    assert response.status_code == 302
    response = client.post("/bank/bulk", data={"csrf_token": csrf_from(page), "ids": ids,
                                               "action": "move", "topic": "safety"})
    db.session.expire_all()
    rows = db.session.scalars(select(Question).where(Question.id.in_(map(int, ids)))).all()
    assert {q.status for q in rows} == {Status.RETIRED}
    assert {q.topic.path for q in rows} == {"safety"}
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action.in_(["question.retire", "question.move"]))) == 6
    # Submitting retired questions for review skips them.
    result = curation.bulk(db.session, utcnow(), examiner.id, [int(i) for i in ids], "submit")
    assert (result.changed, result.skipped) == (0, 3)
    assert client.post("/bank/bulk", data={"ids": ids, "action": "retire"}).status_code == 400


def test_images_are_stored_by_hash_and_served_with_their_type(app, examiner, candidate):
    client = logged_in(app, examiner)
    page = client.get("/bank/media").get_data(as_text=True)
    token = csrf_from(page)
    from io import BytesIO

    response = client.post("/bank/media", data={"csrf_token": token,
                                                "file": (BytesIO(PNG), "cell.png")},
                           content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    url = re.search(r"!\[\]\((/bank/media/[0-9a-f]{64}\.png)\)", html).group(1)
    served = logged_in(app, candidate).get(url)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == PNG
    for data, status in ((b"<svg onload=alert(1)>", 422), (b"GIF89a" + b"0" * (3 << 20), 413)):
        response = client.post("/bank/media", data={"csrf_token": token,
                                                    "file": (BytesIO(data), "x.png")},
                               content_type="multipart/form-data")
        assert response.status_code == status
    assert client.get("/bank/media/../../secret_key").status_code == 404
    assert client.get("/bank/media/" + "0" * 64 + ".png").status_code == 404


def test_question_text_is_sanitised_markdown_with_formulas_kept():
    html = to_html("**Li**<sub>x</sub> $a_1*b_2$ <script>alert(1)</script>"
                   "<img src=x onerror=alert(1)> <img src=\"/bank/media/a.png\"> "
                   "[x](javascript:alert(1)) <a href=\"https://evil\">e</a>")
    assert "<strong>Li</strong><sub>x</sub>" in html
    assert "$a_1*b_2$" in html
    assert "<script" not in html and "onerror" not in html and "alert" not in html.replace(
        "[x](javascript:alert(1))", "")  # a link to javascript: stays inert text
    assert 'src="/bank/media/a.png"' in html and 'src="x"' not in html
    assert "href" not in html and "<a" not in html


def test_candidates_cannot_reach_the_bank(app, candidate, bank):
    client = logged_in(app, candidate)
    for url in ("/bank/", "/bank/questions/new?type=essay", "/bank/questions/1/history",
                "/bank/media"):
        assert client.get(url).status_code == 403


def _count_queries(client, url) -> int:
    count = 0

    def inc(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", inc)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", inc)
    return count


def _add_questions(examiner, n: int, start: int) -> None:
    from examsys.bank.validation import QuestionRecord

    for i in range(start, start + n):
        curation.create_question(db.session, utcnow(), examiner.id, QuestionRecord(
            key=f"T-BULK-{i:04d}", topic="safety", type="true_false", levels=["engineer"],
            difficulty=1 + i % 5, status="draft", tags=["bulk"], reference=None,
            payload={"stem": {"en": f"Bulk {i}"}, "explanation": None, "answer": True},
            file="", line=0))
    db.session.commit()


def test_bank_list_query_count_is_flat_from_20_to_200_questions(app, examiner, bank):
    client = logged_in(app, examiner)
    _add_questions(examiner, 20, 0)
    small = _count_queries(client, "/bank/?topic=safety&status=draft")
    small_history = _count_queries(client, "/bank/?q=bulk")
    _add_questions(examiner, 180, 20)
    assert _count_queries(client, "/bank/?topic=safety&status=draft") == small
    assert _count_queries(client, "/bank/?q=bulk") == small_history
    page = client.get("/bank/?status=draft&page=4").get_data(as_text=True)
    assert "Page 4 of 4" in page
