"""Email to users through an outbox: written in the transaction that has something to tell,
sent afterwards by ``examsys send-mail`` (cron, every minute).

A message is queued with the change that causes it (a released result, an expiry
reminder): a transaction that rolls back sends nothing, and one that commits loses nothing
when the mail server is down; the sender tries again with growing pauses. Each message is
rendered when it is queued, in its reader's language (both, Chinese first, for a user who
never chose one), and kept as sent: the outbox is the record of what was told.

Only when ``EXAMSYS_SMTP_URL`` is set: without a mail server the notices stay in the app.
``smtp://host:25`` (a local relay), ``smtp+starttls://user:password@host:587`` or
``smtps://user:password@host:465``; ``EXAMSYS_MAIL_FROM`` is the sender.

Delivery is at least once: a sender that dies between the server's acceptance and its
own record sends that message again after the claim lapses (``CLAIM``).
"""

import contextlib
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import ForeignKey, Index, String, Text, insert, select, update
from sqlalchemy.orm import Mapped, mapped_column

from examsys.core.types import UTCDateTime
from examsys.extensions import db

MAX_TRIES = 8
CLAIM = timedelta(minutes=10)  # a claimed message waits this long for its sender
LANGUAGES = ("zh_CN", "en")  # a user without a language reads both, in this order


class OutboundEmail(db.Model):
    __tablename__ = "outbound_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    address: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Not before this moment: the next try after a failure, or a sender's claim.
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tries: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_outbound_email_due", "sent_at", "next_try_at"),)


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    security: str  # "none", "starttls" or "tls"
    username: str | None = None
    password: str | None = None


_SCHEMES = {"smtp": ("none", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}


def parse_url(url: str) -> Server:
    """``EXAMSYS_SMTP_URL`` read; ValueError says what is wrong with it."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"EXAMSYS_SMTP_URL: the scheme must be one of {', '.join(_SCHEMES)}")
    if not parts.hostname:
        raise ValueError("EXAMSYS_SMTP_URL names no host")
    security, default_port = _SCHEMES[parts.scheme]
    return Server(parts.hostname, parts.port or default_port, security,
                  unquote(parts.username) if parts.username else None,
                  unquote(parts.password) if parts.password else None)


def enabled() -> bool:
    return bool(current_app.config.get("SMTP_URL"))


def queue(session, now: datetime, kind: str, recipients: Iterable[tuple[int, Any]],
          render: Callable[[Any], tuple[str, str]]) -> int:
    """Queue a message of ``kind`` for each (user id, what to tell) of ``recipients``,
    rendered by ``render(what)`` as (subject, body) in the language made current around
    the call. Two statements however many (the users' addresses and languages, the
    messages); none when mail is not configured. Returns how many were queued."""
    from examsys.accounts.models import User

    recipients = list(recipients)
    if not recipients or not enabled():
        return 0
    users = {uid: (address, locale) for uid, address, locale in session.execute(
        select(User.id, User.email, User.locale)
        .where(User.id.in_({uid for uid, _what in recipients}), User.active))}
    rows = []
    for user_id, what in recipients:
        if user_id not in users:
            continue  # deactivated: told nothing more
        address, locale = users[user_id]
        subject, body = _in_languages(locale, render, what)
        rows.append({"user_id": user_id, "address": address, "kind": kind,
                     # One line: a title or a reason typed with line breaks must not
                     # make a header the mail library refuses (or another header).
                     "subject": " ".join(subject.split())[:300], "body": body,
                     "created_at": now,
                     "next_try_at": now, "tries": 0})
    if rows:
        session.execute(insert(OutboundEmail), rows)
    return len(rows)


def _in_languages(locale: str | None, render, what) -> tuple[str, str]:
    """``render(what)`` in the reader's language, or in each of ``LANGUAGES`` in turn (one
    subject, the bodies one after the other) for a reader who chose none."""
    languages = (locale,) if locale in LANGUAGES else LANGUAGES
    versions = []
    for language in languages:
        with force_locale(language):
            subject, body = render(what)
        versions.append((subject, body + _footer(language)))
    return (" / ".join(s for s, _b in versions),
            "\n\n----\n\n".join(b for _s, b in versions))


def _footer(language: str) -> str:
    from examsys.config import issuer_name

    site = current_app.config.get("BASE_URL")
    return "\n\n" + issuer_name(current_app.config, language) + (f"\n{site}" if site else "")


# -- sending -----------------------------------------------------------------------------

def connect(server: Server) -> smtplib.SMTP:
    if server.security == "tls":
        smtp = smtplib.SMTP_SSL(server.host, server.port, timeout=30,
                                context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(server.host, server.port, timeout=30)
        if server.security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
    if server.username:
        smtp.login(server.username, server.password or "")
    return smtp


def retry_at(now: datetime, tries: int) -> datetime:
    """After the ``tries``-th failure: 1, 2, 4 … 128 minutes later (``MAX_TRIES`` tries)."""
    return now + timedelta(minutes=2 ** (tries - 1))


@dataclass
class Report:
    sent: int = 0
    failed: int = 0  # to be tried again
    given_up: int = 0  # MAX_TRIES reached: left in the outbox with its last error
    left: int = 0  # claimed, not tried in this run (time ran out): due again at once


@dataclass(frozen=True)
class _Claimed:
    id: int
    tries: int
    email: EmailMessage | None  # None: the stored message cannot be made an email
    problem: str | None


def send_due(session, now: datetime, batch: int = 200,
             connector: Callable[[Server], smtplib.SMTP] = connect,
             clock: Callable[[], float] = time.monotonic) -> Report:
    """Send the messages due at ``now``, at most ``batch`` of them; commits ``session``.

    The batch is claimed (``next_try_at`` moved on by ``CLAIM``) and committed before the
    mail server is asked anything, so that several senders never take the same message
    and no transaction stays open while the server answers; each outcome is written and
    committed on its own. A run stops sending at half its claim's time and hands the rest
    back, so that no other run takes a message this one may still send."""
    report = Report()
    server = parse_url(current_app.config["SMTP_URL"])
    sender = current_app.config["MAIL_FROM"]
    due = select(OutboundEmail).where(
        OutboundEmail.sent_at.is_(None), OutboundEmail.tries < MAX_TRIES,
        OutboundEmail.next_try_at <= now).order_by(OutboundEmail.id).limit(batch)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    claimed = []
    for message in session.scalars(due).all():
        message.next_try_at = now + CLAIM
        claimed.append(_claim(message, sender))
    session.commit()
    if not claimed:
        return report
    stop_at = clock() + CLAIM.total_seconds() / 2
    smtp = None
    try:
        for i, message in enumerate(claimed):
            if clock() >= stop_at:
                _hand_back(session, now, claimed[i:], report)
                break
            try:
                if message.email is None:
                    raise ValueError(message.problem)
                smtp = _send(smtp, server, connector, message.email)
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, none stops the batch
                _failed(session, now, message, exc, report)
            else:
                _record(session, message.id, sent_at=now, last_error=None)
                report.sent += 1
    finally:
        if smtp is not None:
            with contextlib.suppress(Exception):
                smtp.quit()  # every outcome is recorded already
    return report


def _claim(message: OutboundEmail, sender: str) -> _Claimed:
    try:
        return _Claimed(message.id, message.tries, _email(message, sender), None)
    except Exception as exc:  # noqa: BLE001 - kept and reported with the message
        return _Claimed(message.id, message.tries, None, f"{type(exc).__name__}: {exc}")


def _send(smtp, server: Server, connector, email: EmailMessage):
    """``email`` sent on ``smtp`` (connected first if None, again once if the server hung
    up meanwhile: a per-connection limit or an idle timeout is not the message's fault);
    returns the connection to go on with."""
    if smtp is None:
        smtp = connector(server)
    try:
        smtp.send_message(email)
    except smtplib.SMTPServerDisconnected:
        smtp = connector(server)
        smtp.send_message(email)
    return smtp


def _record(session, message_id: int, **values) -> None:
    session.execute(update(OutboundEmail).where(OutboundEmail.id == message_id).values(**values))
    session.commit()


def _failed(session, now: datetime, message: _Claimed, exc: Exception, report: Report) -> None:
    tries = message.tries + 1
    _record(session, message.id, tries=tries, next_try_at=retry_at(now, tries),
            last_error=f"{type(exc).__name__}: {exc}"[:500])
    if tries >= MAX_TRIES:
        report.given_up += 1
    else:
        report.failed += 1


def _hand_back(session, now: datetime, rest: list[_Claimed], report: Report) -> None:
    session.execute(update(OutboundEmail).where(OutboundEmail.id.in_([m.id for m in rest]))
                    .values(next_try_at=now))
    session.commit()
    report.left += len(rest)


def _email(message: OutboundEmail, sender: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.address
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    # The same id on every try: a receiver that got a message twice can tell.
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    email["Message-ID"] = f"<examsys-{message.id}-{int(message.created_at.timestamp())}@{domain}>"
    email.set_content(message.body)
    return email
