"""Log in, log out, set a password, choose a language."""

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from examsys.accounts import services
from examsys.accounts.forms import LanguageForm, LoginForm, SetPasswordForm
from examsys.accounts.models import Role
from examsys.accounts.setup import user_for_token
from examsys.core.auth import any_user, public
from examsys.core.clock import utcnow
from examsys.extensions import db, limiter

bp = Blueprint("accounts", __name__)


def home_for(user) -> str:
    if user.role == Role.CANDIDATE:
        return url_for("candidate.dashboard")
    return url_for("staff.sessions")


def _safe_next(target: str | None) -> str | None:
    # Only paths on this site: an open redirect would let a phishing link borrow our login.
    # Browsers drop tabs and newlines from a Location and read a backslash as a slash, so
    # "/<TAB>/evil.example" or "/\\evil.example" would leave the site: no such character.
    if (not target or not target.startswith("/") or "\\" in target
            or any(ord(c) < 32 or ord(c) == 127 for c in target)):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    return target


def start_login(user) -> None:
    login = services.open_login_session(db.session, utcnow(), user, request.remote_addr,
                                        request.user_agent.string)
    db.session.commit()
    session.clear()
    login_user(user)
    user.login_token = login.id


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    return redirect(url_for("accounts.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"],
               methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("The email or password is not right."))
        else:
            start_login(user)
            return redirect(_safe_next(request.args.get("next")) or home_for(user))
    return render_template("accounts/login.html", form=form), 200 if not form.errors else 400


@bp.route("/logout", methods=["POST"])
@any_user
def logout():
    services.end_login_session(db.session, utcnow(), current_user.login_token)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/setup/<token>", methods=["GET", "POST"])
@public
def setup(token):
    user = user_for_token(db.session, token)
    if user is None:
        return render_template("error.html", status=400,
                               message=_("This link has expired or has been used.")), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        services.set_password(db.session, utcnow(), user, form.password.data)
        db.session.commit()
        flash(_("Your password is set. Please log in."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/setup.html", form=form, user=user), \
        400 if form.errors else 200


@bp.route("/language", methods=["POST"])
@public
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")) or url_for("accounts.index"))
