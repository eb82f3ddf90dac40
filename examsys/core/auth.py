"""Role checks for views: every view names who may use it."""

from functools import wraps

from flask import abort, redirect, request, session, url_for
from flask_login import current_user

from examsys.accounts.models import Role


def check_roles(allowed: frozenset[Role]) -> None:
    """Go on only as a logged-in user with one of ``allowed`` roles: else 401 from the API,
    the login page for a browser, 403 for the wrong role."""
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            abort(401)
        abort(redirect(url_for("accounts.login", next=request.full_path.rstrip("?"))))
    if current_user.role not in allowed:
        abort(403)


def login_token() -> str | None:
    """The login session the request's cookie names: not yet checked against the database."""
    return session.get("_user_id")


def roles_required(*roles: Role, proven_by_view: bool = False):
    """Allow only logged-in users with one of ``roles`` (see ``check_roles``).

    ``proven_by_view``: the view checks the login itself, inside the one query it needs
    anyway (autosave, the exam day's hottest request), and calls ``check_roles`` with
    ``view.allowed_roles`` whenever that check did not pass. Every other view leaves it
    to this decorator.
    """
    allowed = frozenset(roles)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not proven_by_view:
                check_roles(allowed)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed
        return wrapped

    return decorator


any_user = roles_required(Role.ADMIN, Role.EXAMINER, Role.CANDIDATE)
staff_required = roles_required(Role.ADMIN, Role.EXAMINER)
candidate_required = roles_required(Role.CANDIDATE)
admin_required = roles_required(Role.ADMIN)


def public(view):
    """Mark a view as open to everyone, so the route audit test knows it was meant."""
    view.allowed_roles = None
    return view
