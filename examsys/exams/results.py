"""An exam session's results for examiners: live progress and exports (CSV and XLSX).

Cells a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) are prefixed with an apostrophe: a candidate named "=HYPERLINK(...)" stays text.
"""

import csv
import io
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from examsys.certs.models import Certificate
from examsys.core.i18n import _
from examsys.exams.models import Attempt, AttemptEvent, AttemptItem, Enrollment, ExamSession

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value):
    """A value safe to put in a spreadsheet cell: text that looks like a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def progress(session, es: ExamSession, now: datetime) -> dict:
    """Who started, who finished, how far each running attempt is: a fixed number of queries."""
    answered = (select(AttemptItem.attempt_id, func.count(AttemptItem.id).label("n"))
                .where(AttemptItem.last_seq > 0).group_by(AttemptItem.attempt_id).subquery())
    flags = (select(AttemptEvent.attempt_id, func.count(AttemptEvent.id).label("n"))
             .where(AttemptEvent.kind.in_(["focus_lost", "hidden", "device_takeover",
                                           "ip_change", "user_agent_change"]))
             .group_by(AttemptEvent.attempt_id).subquery())
    rows = session.execute(
        select(Enrollment, Attempt, answered.c.n, flags.c.n)
        .options(selectinload(Enrollment.candidate))
        .outerjoin(Attempt, Attempt.enrollment_id == Enrollment.id)
        .outerjoin(answered, answered.c.attempt_id == Attempt.id)
        .outerjoin(flags, flags.c.attempt_id == Attempt.id)
        .where(Enrollment.session_id == es.id).order_by(Enrollment.id, Attempt.number)).all()
    total = es.blueprint.item_count
    out, counts = [], {"enrolled": 0, "started": 0, "in_progress": 0, "finished": 0}
    seen = set()
    for enrollment, attempt, n_answered, n_flags in rows:
        if enrollment.id not in seen:
            seen.add(enrollment.id)
            counts["enrolled"] += 1
        entry = {"enrollment_id": enrollment.id, "candidate": enrollment.candidate.name,
                 "email": enrollment.candidate.email, "attempt_id": None, "state": None,
                 "answered": 0, "items": total, "integrity_events": 0,
                 "seconds_left": None, "score": None, "passed": None}
        if attempt is not None:
            counts["started"] += 1
            counts["in_progress" if attempt.is_open else "finished"] += 1
            entry.update(attempt_id=attempt.id, state=attempt.state,
                         answered=n_answered or 0, integrity_events=n_flags or 0,
                         score=attempt.score, passed=attempt.passed,
                         seconds_left=max(0, int((attempt.deadline - now).total_seconds()))
                         if attempt.is_open else None)
        out.append(entry)
    return {"session_id": es.id, "counts": counts, "candidates": out}


HEADER = ("attempt", "candidate", "email", "number", "state", "started_at", "finished_at",
          "score", "max_score", "percent", "passed", "certificate")


def result_rows(session, es: ExamSession) -> list[tuple]:
    rows = session.execute(
        select(Attempt, Certificate.serial).options(selectinload(Attempt.candidate))
        .outerjoin(Certificate, Certificate.attempt_id == Attempt.id)
        .where(Attempt.session_id == es.id).order_by(Attempt.id)).all()
    out = []
    for a, serial in rows:
        percent = round(100 * a.score / a.max_score, 2) if a.score is not None and \
            a.max_score else None
        out.append((a.id, a.candidate.name, a.candidate.email, a.number, a.state,
                    a.started_at.isoformat(), a.finished_at.isoformat() if a.finished_at else "",
                    a.score, a.max_score, percent,
                    "" if a.passed is None else ("yes" if a.passed else "no"), serial or ""))
    return out


def to_csv(rows: list[tuple]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([escape_cell(v) if v is not None else "" for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel reads it as UTF-8


def to_xlsx(rows: list[tuple], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _("Results")[:31]
    sheet.append(HEADER)
    for row in rows:
        sheet.append([escape_cell(v) for v in row])
    sheet.freeze_panes = "A2"
    book.properties.title = escape_cell(title)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
