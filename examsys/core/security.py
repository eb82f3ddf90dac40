"""Login loading and the security headers every response carries."""

from flask import request
from flask_login import current_user

from examsys.extensions import db, login_manager

# No inline script anywhere: every script is a file under /static.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def register_security(app) -> None:
    @login_manager.user_loader
    def _load(token: str):
        from examsys.accounts.services import load_login

        return load_login(db.session, token) if token else None

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # Pages and answers of a logged-in user never sit in a shared or back-button cache.
        # The path first: for API writes, current_user would re-read the user row.
        if request.path.startswith("/api/") or current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response
