"""Email through the outbox: queued with the change that causes it, in the reader's
language, sent by `examsys send-mail` to a real SMTP server (aiosmtpd, in this process),
kept and tried again while the server is down."""

import time
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from flask_babel import force_locale
from sqlalchemy import select

from examsys.certs import lifecycle
from examsys.certs.models import Certificate
from examsys.core import mail
from examsys.core.clock import utcnow
from examsys.core.mail import OutboundEmail
from examsys.exams import notifications, regrade
from examsys.extensions import db, limiter

from . import test_marking_regrade as regrade_tests
from .conftest import free_port
from .exam_support import enroll as enroll_in
from .exam_support import make_session, sit

regrade_bank = regrade_tests.regrade_bank  # the fixture, for the corrected result


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, _server, _session, envelope):  # noqa: N802 - aiosmtpd's name
        self.messages.append((envelope.rcpt_tos,
                              message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


class MailServer:
    """An SMTP server on ``port``, started and stopped at will."""

    def __init__(self, port: int):
        self.port, self.inbox, self.controller = port, Inbox(), None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    server = MailServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(make_app, smtp):
    app = make_app(SMTP_URL=f"smtp://127.0.0.1:{smtp.port}", BASE_URL="https://exams.example",
                   MAIL_FROM="LBCB <exams@lbcb.example>")
    limiter.reset()
    with app.app_context():
        yield app


def outbox(kind: str | None = None) -> list[OutboundEmail]:
    db.session.expire_all()
    query = select(OutboundEmail).order_by(OutboundEmail.id)
    if kind:
        query = query.where(OutboundEmail.kind == kind)
    return list(db.session.scalars(query))


def send(runner) -> str:
    result = runner.invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_released_result_is_emailed_in_the_candidates_language(app, enrolled, candidate,
                                                                 runner, smtp):
    candidate.locale = "zh_CN"
    db.session.commit()
    sit(enrolled, candidate)

    assert "Sent 1," in send(runner)
    [(to, email)] = smtp.inbox.messages
    with force_locale("zh_CN"):
        told = notifications.text("results_released", {"title": enrolled.title})
    assert to == ["cand@example.com"] and email["To"] == "cand@example.com"
    assert email["From"] == "LBCB <exams@lbcb.example>"
    assert email["Subject"] == told and any("\u4e00" <= ch <= "\u9fff" for ch in told)
    body = email.get_content()
    assert told in body and "锂电池认证委员会" in body and "https://exams.example" in body
    [kept] = outbox("results_released")
    assert kept.sent_at is not None and kept.tries == 0
    assert "Sent 0," in send(runner)  # sent once only
    assert len(smtp.inbox.messages) == 1


def test_a_user_without_a_language_reads_both_chinese_first(app, candidate, smtp, runner):
    notifications.notify(db.session, utcnow(), candidate.id, "appeal_decided",
                         {"title": "储能系统工程师", "decision": "upheld"})
    db.session.commit()
    send(runner)

    [(_to, email)] = smtp.inbox.messages
    with force_locale("zh_CN"):
        zh = notifications.text("appeal_decided", {"title": "储能系统工程师", "decision": "upheld"})
    with force_locale("en"):
        en = notifications.text("appeal_decided", {"title": "储能系统工程师", "decision": "upheld"})
    assert zh != en and email["Subject"] == f"{zh} / {en}"
    body = email.get_content()
    assert body.index(zh) < body.index(en)
    assert "锂电池认证委员会" in body and "Lithium Battery Certification Board" in body


def test_expiry_reminders_are_emailed_to_each_holder(app, enrolled, candidate, smtp, runner):
    sit(enrolled, candidate)
    cert = db.session.scalar(select(Certificate))
    send(runner)  # the result's own message
    smtp.inbox.messages.clear()

    due = lifecycle.send_reminders(db.session, cert.expires_at - timedelta(days=20), days=30)
    db.session.commit()
    assert [c.serial for c in due] == [cert.serial]
    [queued] = outbox("certificate_expiring")
    date = cert.expires_at.strftime("%Y-%m-%d")
    assert cert.serial in queued.subject and date in queued.subject
    assert f"This certificate expires on {date}" in queued.body and cert.serial in queued.body
    # Reminded once per horizon: a second run queues nothing more.
    lifecycle.send_reminders(db.session, cert.expires_at - timedelta(days=19), days=30)
    db.session.commit()
    assert len(outbox("certificate_expiring")) == 1


def test_a_session_released_after_close_emails_every_candidate(app, bank, examiner, candidate,
                                                               other_candidate, smtp):
    from examsys.exams import delivery

    es = make_session(examiner, release="after_close")
    enroll_in(es, candidate, other_candidate)
    sit(es, candidate)
    sit(es, other_candidate)
    assert outbox() == []  # nothing told before the release

    delivery.release_closed_sessions(db.session, es.all_closed_at)
    db.session.commit()
    assert sorted(m.address for m in outbox("results_released")) == [
        "cand@example.com", "other@example.com"]
    assert mail.send_due(db.session, es.all_closed_at).sent == 2
    assert sorted(to[0] for to, _e in smtp.inbox.messages) == [
        "cand@example.com", "other@example.com"]


def test_a_notice_with_line_breaks_goes_as_one_line_and_stops_nothing(app, candidate, smtp,
                                                                     runner):
    # An invalidation reason comes from a text area; a session title from the API.
    notifications.notify(db.session, utcnow(), candidate.id, "attempt_invalidated",
                         {"title": "BMS\nBcc: someone@else.example", "reason": "Phone.\nCase 42"})
    notifications.notify(db.session, utcnow(), candidate.id, "results_released", {"title": "x"})
    db.session.commit()

    assert "Sent 2," in send(runner)
    [(to, first), (_to, _second)] = smtp.inbox.messages
    assert to == ["cand@example.com"] and first["Bcc"] is None
    assert "\n" not in first["Subject"] and "BMS Bcc: someone@else.example" in first["Subject"]
    assert "Phone.\nCase 42" in first.get_content().replace("\r\n", "\n")  # lines kept


def test_a_message_that_cannot_be_made_is_recorded_and_the_rest_goes(app, candidate, smtp):
    for title in ("first", "second"):
        notifications.notify(db.session, utcnow(), candidate.id, "results_released",
                             {"title": title})
    db.session.commit()
    broken = outbox()[0]
    broken.subject = "a\nb"  # as an older version, or a hand, could have stored it
    db.session.commit()

    report = mail.send_due(db.session, utcnow())
    assert (report.sent, report.failed) == (1, 1)
    first, second = outbox()
    assert first.sent_at is None and first.tries == 1 and "ValueError" in first.last_error
    assert second.sent_at is not None and len(smtp.inbox.messages) == 1


def test_a_server_that_hangs_up_is_called_again_for_the_next_message(app, candidate, smtp):
    for title in ("one", "two", "three"):
        notifications.notify(db.session, utcnow(), candidate.id, "results_released",
                             {"title": title})
    db.session.commit()
    opened = []

    def one_message_per_connection(server):
        connection = mail.connect(server)
        opened.append(connection)
        sent = connection.send_message

        def send_then_hang_up(email):
            sent(email)
            connection.quit()  # as a server with a limit of one message per connection
        connection.send_message = send_then_hang_up
        return connection

    report = mail.send_due(db.session, utcnow(), connector=one_message_per_connection)
    assert (report.sent, report.failed) == (3, 0) and len(opened) == 3
    assert len(smtp.inbox.messages) == 3


def test_a_run_that_outlasts_half_its_claim_hands_the_rest_back(app, candidate, smtp):
    for title in ("one", "two", "three"):
        notifications.notify(db.session, utcnow(), candidate.id, "results_released",
                             {"title": title})
    db.session.commit()
    ticks = iter([0.0, 1.0, mail.CLAIM.total_seconds()])  # slow after the first message
    now = utcnow()

    report = mail.send_due(db.session, now, clock=lambda: next(ticks))
    assert (report.sent, report.left) == (1, 2)
    rest = [m for m in outbox() if m.sent_at is None]
    assert [(m.tries, m.next_try_at) for m in rest] == [(0, now), (0, now)]
    assert mail.send_due(db.session, now).sent == 2  # the next run takes them at once


def test_no_transaction_is_open_while_the_server_answers(app, candidate, smtp):
    notifications.notify(db.session, utcnow(), candidate.id, "results_released", {"title": "x"})
    db.session.commit()
    seen = []

    def watching(server):
        connection = mail.connect(server)
        sent = connection.send_message

        def send(email):
            seen.append(db.session().in_transaction())
            sent(email)
        connection.send_message = send
        return connection

    assert mail.send_due(db.session, utcnow(), connector=watching).sent == 1
    assert seen == [False]


def test_a_corrected_result_is_emailed(app, regrade_bank, examiner, candidate, smtp):
    es = make_session(examiner, "REGRADE-CERT")
    enroll_in(es, candidate)
    sit(es, candidate, lambda item: regrade_tests.by_key(item) != "R-0001")  # R-0001 wrong
    old = regrade_tests.question_version("R-0001")
    new = regrade_tests.corrected(old, False)  # the key said true; false was right

    fingerprint = regrade.plan(db.session, old.id, new.id).summary()["fingerprint"]
    regrade.apply(db.session, utcnow(), old.id, new.id, examiner.id, fingerprint)
    db.session.commit()
    assert [m.kind for m in outbox()] == ["results_released", "result_changed"]
    [changed] = outbox("result_changed")
    with force_locale("en"):
        told = notifications.text("result_changed", {"title": es.title})
    assert told in changed.subject and changed.address == "cand@example.com"


def test_a_server_that_is_down_keeps_the_message_and_it_goes_later(make_app, candidate_free):
    port = free_port()  # nobody listens here yet
    app = make_app(SMTP_URL=f"smtp://127.0.0.1:{port}")
    server = MailServer(port)
    with app.app_context():
        user = candidate_free()
        start = utcnow()
        notifications.notify(db.session, start, user.id, "results_released", {"title": "BMS"})
        db.session.commit()

        report = mail.send_due(db.session, start)
        assert (report.sent, report.failed) == (0, 1)
        [kept] = outbox()
        assert kept.sent_at is None and kept.tries == 1 and "Connection" in kept.last_error
        assert kept.next_try_at == start + timedelta(minutes=1)
        # Not before its time, even with the server back.
        server.start()
        try:
            assert mail.send_due(db.session, start + timedelta(seconds=59)).sent == 0
            assert mail.send_due(db.session, start + timedelta(minutes=1)).sent == 1
        finally:
            server.stop()
        [kept] = outbox()
        assert kept.sent_at == start + timedelta(minutes=1) and kept.last_error is None
        assert len(server.inbox.messages) == 1


def test_after_eight_failures_a_message_is_left_with_its_error(make_app, candidate_free):
    app = make_app(SMTP_URL=f"smtp://127.0.0.1:{free_port()}")
    with app.app_context():
        user = candidate_free()
        now = utcnow()
        notifications.notify(db.session, now, user.id, "results_released", {"title": "BMS"})
        db.session.commit()
        pauses = []
        for _try in range(mail.MAX_TRIES):
            report = mail.send_due(db.session, now)
            [kept] = outbox()
            pauses.append(kept.next_try_at - now)
            now = kept.next_try_at
        assert report.given_up == 1
        assert pauses[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
        assert max(pauses) == timedelta(hours=2, minutes=8)
        assert mail.send_due(db.session, now + timedelta(days=1)).failed == 0  # left alone


def test_a_claimed_message_is_not_taken_by_another_sender(make_app, candidate_free):
    port = free_port()
    app = make_app(SMTP_URL=f"smtp://127.0.0.1:{port}")
    server = MailServer(port)
    server.start()
    try:
        with app.app_context():
            user = candidate_free()
            now = utcnow()
            notifications.notify(db.session, now, user.id, "results_released", {"title": "BMS"})
            db.session.commit()
            # A sender that claimed the message and died before sending it.
            [message] = outbox()
            message.next_try_at = now + mail.CLAIM
            db.session.commit()
            assert mail.send_due(db.session, now).sent == 0
            assert mail.send_due(db.session, now + mail.CLAIM).sent == 1
    finally:
        server.stop()
    assert len(server.inbox.messages) == 1


def test_without_a_mail_server_nothing_is_queued(make_app, candidate_free):
    app = make_app()
    with app.app_context():
        user = candidate_free()
        notifications.notify(db.session, utcnow(), user.id, "results_released", {"title": "x"})
        db.session.commit()
        assert outbox() == []
        result = app.test_cli_runner().invoke(args=["send-mail"])
        assert result.exit_code == 1 and "EXAMSYS_SMTP_URL" in result.output


def test_a_deactivated_user_is_not_emailed(app, candidate, smtp):
    candidate.active = False
    db.session.commit()
    notifications.notify(db.session, utcnow(), candidate.id, "results_released", {"title": "x"})
    db.session.commit()
    assert outbox() == []


@pytest.mark.parametrize(("url", "server"), [
    ("smtp://relay.local", mail.Server("relay.local", 25, "none")),
    ("smtp+starttls://ops%40lbcb.example:p%40ss@mail.example:2525",
     mail.Server("mail.example", 2525, "starttls", "ops@lbcb.example", "p@ss")),
    ("smtps://u:p@mail.example", mail.Server("mail.example", 465, "tls", "u", "p")),
])
def test_smtp_addresses_are_read(url, server):
    assert mail.parse_url(url) == server


@pytest.mark.parametrize("url", ["http://mail.example", "smtp://", "mail.example:25"])
def test_a_wrong_smtp_address_stops_the_app_at_its_start(make_app, url):
    with pytest.raises(ValueError, match="EXAMSYS_SMTP_URL"):
        make_app(SMTP_URL=url)


@pytest.fixture
def candidate_free():
    """A candidate made inside the test's own app context."""
    from examsys.accounts.models import Role

    from .conftest import add_user

    def make():
        return add_user(Role.CANDIDATE, f"c{time.monotonic_ns()}@example.com", "陈静")
    return make
