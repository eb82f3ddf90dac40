"""Who may see a certificate's private pages (page, PDF, credential): staff, and its holder
once the session's results are released."""

from flask import abort
from flask_login import current_user

from examsys.accounts.models import Role
from examsys.certs import services
from examsys.certs.models import Certificate
from examsys.core.clock import utcnow
from examsys.exams.delivery import results_released
from examsys.extensions import db


def visible_certificate(serial: str) -> Certificate:
    cert = services.by_serial(db.session, serial)
    if cert is None:
        abort(404)
    if current_user.role == Role.CANDIDATE and (
            cert.holder_id != current_user.id
            or (cert.attempt is not None and not results_released(cert.attempt, utcnow()))):
        abort(404)
    return cert
