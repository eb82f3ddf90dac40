"""Open Badges 3.0 / W3C Verifiable Credentials for certificates, signed with Ed25519, and
the W3C Bitstring Status Lists that let an offline verifier see revocation.

Format (see docs/certificates.md): a compact JWS (``typ: vc+jwt``, ``alg: EdDSA``) whose
payload is the credential itself (VC Data Model 2.0, Open Badges 3.0 context) plus the JWT
registered claims ``iss``, ``sub``, ``jti``, ``nbf``, ``exp`` mirroring it, so that any
JWT library checks signature and validity period, and the issuer's keys are a JWKS.
"""

import base64
import gzip
import uuid
from datetime import datetime
from urllib.parse import quote, urlsplit

from flask import current_app, url_for
from sqlalchemy import select

from examsys.certs import keys
from examsys.certs.models import REVOKED, SUPERSEDED, SUSPENDED, Certificate
from examsys.core.i18n import _

VC_CONTEXT = ["https://www.w3.org/ns/credentials/v2",
              "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
# Status list purposes and the certificate state that sets a bit in each. "refresh" is the
# spec's purpose for "a newer credential replaces this one": a superseded certificate.
PURPOSES = {"revocation": REVOKED, "suspension": SUSPENDED, "refresh": SUPERSEDED}
MIN_LIST_BITS = 131072  # 16 KiB: the spec's minimum, for herd privacy


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def base_url() -> str:
    return url_for("certs_public.jwks", _external=True).removesuffix("/.well-known/jwks.json")


def issuer_did() -> str:
    """did:web of this site: resolvable at /.well-known/did.json (a port is %3A-encoded)."""
    return "did:web:" + quote(urlsplit(base_url()).netloc, safe="")


def status_list_url(purpose: str) -> str:
    return url_for("certs_public.status_list", purpose=purpose, _external=True)


def credential_id(cert: Certificate) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, base_url() + "/" + cert.serial))


def issuer_profile() -> dict:
    return {"id": issuer_did(), "type": ["Profile"],
            "name": current_app.config["ISSUER_NAME"], "url": base_url()}


def credential(cert: Certificate) -> dict:
    """The Open Badges 3.0 credential of a certificate (unsigned)."""
    c = cert.certification
    names = [cert.holder_name] + ([cert.holder_name_en] if cert.holder_name_en else [])
    verify = url_for("certs.verify", _external=True)
    return {
        "@context": VC_CONTEXT,
        "id": credential_id(cert),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer_profile(),
        "validFrom": _iso(cert.issued_at),
        "validUntil": _iso(cert.expires_at),
        "name": f"{c.name_en} / {c.name_zh}",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                            "identityHash": name} for name in names],
            "achievement": {
                "id": f"urn:examsys:certification:{c.code}",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": c.name_en,
                "description": f"{c.name_en} / {c.name_zh} ({c.level})",
                "criteria": {"narrative": "Passed the certification examination."},
                "tag": [c.code, c.level],
            },
            "serial": cert.serial,
        },
        "credentialStatus": [
            {"id": f"{status_list_url(p)}#{cert.id}", "type": "BitstringStatusListEntry",
             "statusPurpose": p, "statusListIndex": str(cert.id),
             "statusListCredential": status_list_url(p)} for p in PURPOSES],
        "evidence": [{"type": ["Evidence"], "id": verify,
                      "narrative": _("Verify online by serial and name.")}],
    }


def _signed(session, now: datetime, vc: dict, *, sub: str | None = None,
            exp: datetime | None = None) -> str:
    claims = {**vc, "iss": vc["issuer"]["id"] if isinstance(vc["issuer"], dict)
              else vc["issuer"], "jti": vc["id"], "iat": int(now.timestamp()),
              "nbf": int(datetime.fromisoformat(vc["validFrom"]).timestamp())}
    if sub:
        claims["sub"] = sub
    if exp:
        claims["exp"] = int(exp.timestamp())
    return keys.sign(session, now, claims, typ="vc+jwt")


def issue_jwt(session, now: datetime, cert: Certificate) -> str:
    """The certificate as a signed credential (signed on demand with the active key)."""
    vc = credential(cert)
    return _signed(session, now, vc, sub=cert.serial, exp=cert.expires_at)


def encode_bits(indexes: list[int]) -> str:
    """Multibase (u = base64url, no padding) of the GZIP of the bitstring; bit 0 leftmost."""
    length = max(MIN_LIST_BITS, (max(indexes, default=0) // 8 + 1) * 8)
    bits = bytearray(length // 8)
    for i in indexes:
        bits[i // 8] |= 0x80 >> (i % 8)
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_bits(encoded: str) -> bytes:
    data = encoded.removeprefix("u")
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def status_list_jwt(session, now: datetime, purpose: str) -> str:
    """The signed BitstringStatusListCredential for ``purpose``, as of ``now``."""
    state = PURPOSES[purpose]
    ids = list(session.scalars(select(Certificate.id).where(Certificate.state == state)))
    url = status_list_url(purpose)
    vc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "id": url,
          "type": ["VerifiableCredential", "BitstringStatusListCredential"],
          "issuer": issuer_profile(), "validFrom": _iso(now),
          "credentialSubject": {"id": url + "#list", "type": "BitstringStatusList",
                                "statusPurpose": purpose, "encodedList": encode_bits(ids)}}
    return _signed(session, now, vc)


def did_document(session) -> dict:
    did = issuer_did()
    methods = [{"id": f"{did}#{row.kid}", "type": "JsonWebKey2020", "controller": did,
                "publicKeyJwk": row.public_jwk} for row in keys.published(session)]
    return {"@context": ["https://www.w3.org/ns/did/v1",
                         "https://w3id.org/security/suites/jws-2020/v1"],
            "id": did, "verificationMethod": methods,
            "assertionMethod": [m["id"] for m in methods]}
