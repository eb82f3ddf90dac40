#!/usr/bin/env python3
"""Verify an examsys certificate credential offline, without calling the examsys API.

    pip install pyjwt cryptography
    python verify_credential.py CERT.jwt --jwks jwks.json [--status-list revocation.jwt]

Fetch ``https://ISSUER/.well-known/jwks.json`` (and, to see revocations, the credential's
``credentialStatus[].statusListCredential``) once, or whenever you want fresh revocation
data; the check itself needs no network. Exit code 0: valid; 1: not valid.
"""

import argparse
import base64
import gzip
import json
import sys
from pathlib import Path

import jwt  # PyJWT: any JOSE library that does EdDSA (Ed25519) works the same way


def load_key(jwks: dict, token: str):
    kid = jwt.get_unverified_header(token).get("kid")
    return jwt.PyJWKSet.from_dict(jwks)[kid].key


def check(token: str, jwks: dict) -> dict:
    return jwt.decode(token, load_key(jwks, token), algorithms=["EdDSA"],
                      options={"require": ["exp", "nbf", "iss"]})


def bit_is_set(status_list_token: str, jwks: dict, index: int) -> bool:
    """W3C Bitstring Status List: multibase base64url, GZIP, bit 0 is the leftmost."""
    claims = jwt.decode(status_list_token, load_key(jwks, status_list_token),
                        algorithms=["EdDSA"])
    encoded = claims["credentialSubject"]["encodedList"].removeprefix("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    return bool(bits[index // 8] & (0x80 >> index % 8))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("credential")
    parser.add_argument("--jwks", required=True)
    parser.add_argument("--status-list", action="append", default=[],
                        help="a downloaded status list credential (revocation, suspension…)")
    args = parser.parse_args()
    token = Path(args.credential).read_text(encoding="utf-8").strip()
    jwks = json.loads(Path(args.jwks).read_text(encoding="utf-8"))
    try:
        claims = check(token, jwks)
    except jwt.ExpiredSignatureError:
        print("NOT VALID: the certificate has expired")
        return 1
    except (jwt.InvalidTokenError, KeyError) as err:
        print(f"NOT VALID: the signature does not verify ({err.__class__.__name__})")
        return 1
    for path in args.status_list:
        listed = Path(path).read_text(encoding="utf-8").strip()
        purpose = jwt.decode(listed, options={"verify_signature": False})[
            "credentialSubject"]["statusPurpose"]
        for entry in claims.get("credentialStatus", []):
            if entry["statusPurpose"] == purpose and bit_is_set(
                    listed, jwks, int(entry["statusListIndex"])):
                print(f"NOT VALID: status '{purpose}' is set")
                return 1
    subject = claims["credentialSubject"]
    names = ", ".join(i["identityHash"] for i in subject.get("identifier", []))
    print(f"VALID: {subject['serial']} — {subject['achievement']['name']} — {names} — "
          f"until {claims['validUntil']} — issued by {claims['issuer']['name']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
