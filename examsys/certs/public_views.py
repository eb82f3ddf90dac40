"""What an offline verifier fetches once: the issuer's keys (JWKS and did:web document)
and the signed status lists. Public, cacheable for a short while, never a private key."""

from flask import Blueprint, Response, abort, jsonify

from examsys.certs import credentials, keys
from examsys.core.auth import public
from examsys.core.clock import utcnow
from examsys.core.database import begin_write
from examsys.extensions import db

bp = Blueprint("certs_public", __name__)


def ensure_signing_key() -> None:
    """A fresh install makes its first key on the first request that signs (a GET, so the
    write lock is taken explicitly)."""
    if not keys.active_keys(db.session):
        begin_write(db.session)
        keys.signing_key(db.session, utcnow())
        db.session.commit()


def _cacheable(response: Response, seconds: int) -> Response:
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/.well-known/jwks.json")
@public
def jwks():
    return _cacheable(jsonify(keys.jwks(db.session)), 300)


@bp.route("/.well-known/did.json")
@public
def did():
    return _cacheable(jsonify(credentials.did_document(db.session)), 300)


@bp.route("/credentials/status/<purpose>")
@public
def status_list(purpose):
    if purpose not in credentials.PURPOSES:
        abort(404)
    ensure_signing_key()
    token = credentials.status_list_jwt(db.session, utcnow(), purpose)
    # Short-lived: a revocation must reach offline verifiers quickly.
    return _cacheable(Response(token, mimetype="application/vc+jwt"), 60)
