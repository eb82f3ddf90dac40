"""Role checks for views: every view names who may use it."""

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from examsys.accounts.models import Role


def roles_required(*roles: Role):
    """Allow only logged-in users with one of ``roles`` (401 when anonymous, 403 otherwise)."""
    allowed = frozenset(roles)

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if request.path.startswith("/api/"):
                    abort(401)
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            if current_user.role not in allowed:
                abort(403)
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
