"""JSON API: log in and out."""

from flask import Blueprint, current_app
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from flask_wtf.csrf import generate_csrf

from examsys.accounts import services
from examsys.accounts.views import start_login
from examsys.core.api import json_body, ok
from examsys.core.auth import any_user, public
from examsys.core.clock import utcnow
from examsys.core.errors import DomainError
from examsys.extensions import csrf, db, limiter

bp = Blueprint("accounts_api", __name__)


def user_json(user) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role.value}


@bp.route("/auth/login", methods=["POST"])
@public
@csrf.exempt  # nothing to protect yet, and a JSON body cannot be sent by a foreign form
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"])
def login():
    body = json_body()
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise DomainError(_("Send email and password."), code="invalid", status=422)
    user = services.authenticate(db.session, email, password)
    if user is None:
        raise DomainError(_("The email or password is not right."), code="bad_credentials",
                          status=401)
    start_login(user)
    return ok({"user": user_json(user), "csrf_token": generate_csrf()})


@bp.route("/auth/logout", methods=["POST"])
@any_user
def logout():
    services.end_login_session(db.session, utcnow(), current_user.login_token)
    db.session.commit()
    logout_user()
    return ok({"logged_out": True})


@bp.route("/auth/me")
@any_user
def me():
    return ok({"user": user_json(current_user), "csrf_token": generate_csrf()})
