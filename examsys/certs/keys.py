"""Ed25519 signing keys for offline-verifiable credentials.

Lifecycle: ``generate`` makes a new active key (the previous active one is retired in the
same step); a retired key signs nothing but stays published, so credentials it signed still
verify; ``remove`` deletes a retired key's private half and unpublishes it: credentials it
signed stop verifying offline. That last step is deliberate and documented
(docs/certificates.md).
"""

import warnings
from datetime import datetime

from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey
from sqlalchemy import select

from examsys.certs.models import SigningKey
from examsys.core.errors import Conflict, NotFound
from examsys.core.i18n import _

# RFC 8037's name: what PyJWT, jose and wallets verify today (RFC 9864 renames it Ed25519).
ALGORITHM = "EdDSA"


def generate(session, now: datetime) -> SigningKey:
    """Create a new active key and retire the one it replaces."""
    key = OKPKey.generate_key("Ed25519")
    for old in active_keys(session):
        old.retired_at = now
    row = SigningKey(kid=key_id(key), public_jwk=public_jwk(key),
                     private_pem=key.as_pem(private=True).decode(), created_at=now)
    session.add(row)
    session.flush()
    return row


def key_id(key: OKPKey) -> str:
    """The key's RFC 7638 thumbprint behind a fixed prefix.

    A bare thumbprint is base64url and begins with "-" once in 64 keys; typed after
    `examsys keys remove` it would be read as an option.
    """
    return f"ed25519-{key.thumbprint()}"


def public_jwk(key: OKPKey) -> dict:
    return {**key.as_dict(private=False), "kid": key_id(key), "alg": ALGORITHM,
            "use": "sig"}


def active_keys(session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).where(
        SigningKey.retired_at.is_(None), SigningKey.removed_at.is_(None))
        .order_by(SigningKey.id)))


def published(session) -> list[SigningKey]:
    """Active and retired keys: everything a verifier may need."""
    return list(session.scalars(select(SigningKey).where(SigningKey.removed_at.is_(None))
                                .order_by(SigningKey.id)))


def all_keys(session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.id)))


def signing_key(session, now: datetime) -> SigningKey:
    """The active key; the first one is made on first use, so a fresh install just works."""
    keys = active_keys(session)
    return keys[-1] if keys else generate(session, now)


def _find(session, kid: str) -> SigningKey:
    row = session.scalar(select(SigningKey).where(SigningKey.kid == kid))
    if row is None:
        raise NotFound(_("No signing key has this id."), code="unknown_key")
    return row


def retire(session, now: datetime, kid: str) -> SigningKey:
    row = _find(session, kid)
    if row.state != "active":
        raise Conflict(_("Only an active key can be retired."), code="not_active")
    row.retired_at = now
    return row


def remove(session, now: datetime, kid: str) -> SigningKey:
    """Forget a retired key for good: its private half is erased and it is unpublished."""
    row = _find(session, kid)
    if row.state != "retired":
        raise Conflict(_("Retire a key before removing it."), code="not_retired")
    row.removed_at, row.private_pem = now, None
    return row


def jwks(session) -> dict:
    return {"keys": [row.public_jwk for row in published(session)]}


def sign(session, now: datetime, claims: dict, typ: str = "JWT") -> str:
    row = signing_key(session, now)
    key = OKPKey.import_key(row.private_pem)
    with warnings.catch_warnings():
        # joserfc flags "EdDSA" as superseded by RFC 9864; see ALGORITHM for why we keep it.
        warnings.simplefilter("ignore")
        return jwt.encode({"alg": ALGORITHM, "kid": row.kid, "typ": typ}, claims, key,
                          algorithms=[ALGORITHM])


def verify(session, token: str) -> dict:
    """Our own check of a credential (the employer's script uses another library)."""
    keyset = KeySet.import_key_set(jwks(session))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return jwt.decode(token, keyset, algorithms=[ALGORITHM]).claims
