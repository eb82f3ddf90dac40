"""Scheduling exam sessions and enrolling candidates."""

import csv
import io
import ipaddress
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from examsys.accounts.models import Role, User
from examsys.accounts.services import create_user, normalise_email
from examsys.core import audit
from examsys.core.errors import Conflict, Invalid, NotFound
from examsys.exams import delivery
from examsys.exams.models import Certification, Enrollment, ExamSession, ReleasePolicy

MAX_ENROLL_ROWS = 5000


def create_session(session, now: datetime, *, certification_code: str, opens_at: datetime,
                   closes_at: datetime, access_code: str | None, release: str,
                   title: str | None, actor_id: int, grace_seconds=30, stagger_seconds=0,
                   allowed_networks=None) -> ExamSession:
    """Schedule a session of a certification's current blueprint."""
    cert = session.scalar(select(Certification).where(Certification.code == certification_code))
    if cert is None or cert.current_blueprint_id is None:
        raise NotFound(_("No certification has the code %(code)s.", code=certification_code),
                       code="unknown_certification")
    if closes_at <= opens_at:
        raise Invalid(_("The window must close after it opens."), code="invalid_window")
    if closes_at <= now:
        raise Invalid(_("The window must close in the future."), code="invalid_window")
    if not isinstance(title, str | None) or not isinstance(access_code, str | None):
        raise Invalid(_("title and access_code must be text."), code="invalid")
    if title and len(title.strip()) > TITLE_MAX:
        raise Invalid(_("The title is too long: at most %(n)d characters.", n=TITLE_MAX),
                      code="invalid")
    if not isinstance(release, str) or release not in {p.value for p in ReleasePolicy}:
        raise Invalid(_("The release policy must be immediate, after_close or manual."),
                      code="invalid_release")
    code = (access_code or "").strip().upper() or None
    if code is not None and not (4 <= len(code) <= 32 and code.isalnum()):
        raise Invalid(_("The access code must be 4 to 32 letters or digits."),
                      code="invalid_access_code")
    grace_seconds, stagger_seconds, networks = check_delivery_options(
        grace_seconds, stagger_seconds, allowed_networks)
    es = ExamSession(certification_id=cert.id, blueprint_id=cert.current_blueprint_id,
                     # Without a title, both languages: candidates and staff read either.
                     title=(title or "").strip() or f"{cert.name_zh} / {cert.name_en}",
                     opens_at=opens_at,
                     closes_at=closes_at, access_code=code, release=release,
                     grace_seconds=grace_seconds, stagger_seconds=stagger_seconds,
                     allowed_networks=networks, created_by_id=actor_id, created_at=now)
    session.add(es)
    audit.record(session, now, actor_id, "session.create", es,
                 {"certification": cert.code, "opens_at": opens_at.isoformat(),
                  "closes_at": closes_at.isoformat()})
    return es


# The columns' lengths: longer text is refused with a message, not by the database.
TITLE_MAX = ExamSession.title.type.length
EMAIL_MAX, NAME_MAX = User.email.type.length, User.name.type.length
MAX_GRACE_SECONDS = 600
MAX_STAGGER_SECONDS = 600


def parse_networks(raw) -> list[str] | None:
    """CIDR ranges from a list or a text of ranges separated by commas or lines."""
    if raw is None or raw == "" or raw == []:
        return None
    parts = raw.replace(",", "\n").split() if isinstance(raw, str) else raw
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        raise Invalid(_("allowed_networks must be a list of address ranges such as "
                        "10.1.0.0/16."), code="invalid_networks")
    out = []
    for part in parts:
        try:
            if "%" in part:  # an IPv6 zone (fe80::%eth0/64) names a link, not a centre
                raise ValueError(part)
            out.append(str(ipaddress.ip_network(part.strip(), strict=False)))
        except ValueError:
            raise Invalid(_("%(value)s is not an address range such as 10.1.0.0/16.",
                            value=part), code="invalid_networks") from None
    return out or None


def check_delivery_options(grace_seconds, stagger_seconds, allowed_networks):
    for value, name, top in ((grace_seconds, "grace_seconds", MAX_GRACE_SECONDS),
                             (stagger_seconds, "stagger_seconds", MAX_STAGGER_SECONDS)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
            raise Invalid(_("%(field)s must be a whole number of seconds from 0 to %(n)d.",
                            field=name, n=top), code="invalid_" + name)
    return grace_seconds, stagger_seconds, parse_networks(allowed_networks)


def release_results(session, now: datetime, es: ExamSession, actor_id: int) -> None:
    if es.release != ReleasePolicy.MANUAL:
        raise Conflict(_("This session releases its results by itself."), code="not_manual")
    if es.released_at is None:
        es.released_at = now
        audit.record(session, now, actor_id, "session.release", es)
        delivery.release_results(session, now, es.id)


@dataclass
class EnrollRow:
    email: str
    name: str | None = None
    line: int = 0


@dataclass
class EnrollResult:
    enrolled: list[User] = field(default_factory=list)
    already: list[User] = field(default_factory=list)
    # New accounts and the one-time link with which each sets a password.
    created: list[tuple[User, str]] = field(default_factory=list)


def parse_csv(data: bytes) -> tuple[list[EnrollRow], list[str]]:
    """Rows of ``email,name`` (header optional); every bad line is reported with its number."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [_("The file is not UTF-8 text. Save it as CSV UTF-8.")]
    rows, problems = [], []
    for number, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not record or not any(cell.strip() for cell in record):
            continue
        if number == 1 and record[0].strip().lower() in ("email", "邮箱", "e-mail"):
            continue
        email = normalise_email(record[0])
        name = record[1].strip() if len(record) > 1 else ""
        if "@" not in email or " " in email:
            problems.append(_("Line %(n)d: %(value)s is not an email address.",
                              n=number, value=record[0].strip()))
            continue
        rows.append(EnrollRow(email, name or None, number))
        if len(rows) > MAX_ENROLL_ROWS:
            problems.append(_("More than %(n)d rows: split the file.", n=MAX_ENROLL_ROWS))
            break
    return rows, problems


def enroll(session, now: datetime, es: ExamSession, rows: list[EnrollRow],
           actor_id: int) -> EnrollResult:
    """Enroll candidates all together or not at all; unknown emails with a name get an
    account and a set-password link. Raises Invalid listing every row that can't be done."""
    emails = [r.email for r in rows]
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
    problems = []
    for r in rows:
        user = users.get(r.email)
        if len(r.email) > EMAIL_MAX or len(r.name or "") > NAME_MAX:
            problems.append(_("%(where)s%(email)s: an email has at most %(e)d characters and "
                              "a name at most %(n)d.",
                              where=_("Line %(n)d: ", n=r.line) if r.line else "",
                              email=r.email[:60], e=EMAIL_MAX, n=NAME_MAX))
        elif user is None and not r.name:
            problems.append(_("%(where)s%(email)s has no account; give a name to create one.",
                              where=_("Line %(n)d: ", n=r.line) if r.line else "",
                              email=r.email))
        elif user is not None and user.role != Role.CANDIDATE:
            problems.append(_("%(where)s%(email)s is not a candidate account.",
                              where=_("Line %(n)d: ", n=r.line) if r.line else "",
                              email=r.email))
    if problems:
        raise Invalid(_("Nobody was enrolled."), code="invalid_enrollment", details=problems)
    from examsys.accounts.setup import setup_token  # local: accounts must not import exams

    result = EnrollResult()
    enrolled_ids = set(session.scalars(select(Enrollment.candidate_id)
                                       .where(Enrollment.session_id == es.id)))
    for r in dict((r.email, r) for r in rows).values():
        user = users.get(r.email)
        if user is None:
            user = create_user(session, now, email=r.email, name=r.name, role=Role.CANDIDATE,
                               password=None, actor_id=actor_id)
            session.flush()
            users[r.email] = user
            result.created.append((user, setup_token(user)))
        if user.id in enrolled_ids:
            result.already.append(user)
            continue
        enrolled_ids.add(user.id)
        session.add(Enrollment(session_id=es.id, candidate_id=user.id, created_at=now))
        result.enrolled.append(user)
    session.flush()
    audit.record(session, now, actor_id, "session.enroll", es,
                 {"enrolled": [u.email for u in result.enrolled]})
    return result
