# ruff: noqa: F811 - pytest fixtures imported from test_certificates
"""Offline verification: Open Badges 3.0 credentials signed with Ed25519, checked with an
independent library (PyJWT, not joserfc which signs), the JWKS and did:web documents, the
bitstring status lists, and key rotation and removal."""

import jwt as pyjwt
import pytest

from examsys.certs import credentials, lifecycle
from examsys.core.clock import utcnow
from examsys.extensions import db

from .conftest import Api
from .test_certificates import cert  # noqa: F401 - the fixture


def download(app, user, serial) -> str:
    api = Api(app.test_client())
    api.login(user.email)
    response = api.get(f"/certificates/{serial}/credential.jwt")
    assert response.status_code == 200 and response.mimetype == "application/vc+jwt"
    return response.get_data(as_text=True)


def verify_offline(token: str, jwks: dict) -> dict:
    """What an employer does, with PyJWT only."""
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = pyjwt.PyJWKSet.from_dict(jwks)[kid]
    return pyjwt.decode(token, key.key, algorithms=["EdDSA"],
                        options={"require": ["exp", "nbf", "iss"]})


def status_bit(client, entry: dict, jwks: dict) -> bool:
    path = entry["statusListCredential"].split("exams.test", 1)[1]
    listed = verify_offline_list(client.get(path).get_data(as_text=True), jwks)
    bits = credentials.decode_bits(listed["credentialSubject"]["encodedList"])
    index = int(entry["statusListIndex"])
    return bool(bits[index // 8] & (0x80 >> index % 8))


def verify_offline_list(token, jwks):
    kid = pyjwt.get_unverified_header(token)["kid"]
    return pyjwt.decode(token, pyjwt.PyJWKSet.from_dict(jwks)[kid].key, algorithms=["EdDSA"])


def test_credential_verifies_with_an_independent_library(app, cert, candidate, client):
    token = download(app, candidate, cert.serial)
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert all("d" not in k for k in jwks["keys"])  # never a private key

    claims = verify_offline(token, jwks)

    assert "OpenBadgeCredential" in claims["type"]
    assert claims["credentialSubject"]["serial"] == cert.serial
    assert claims["iss"] == claims["issuer"]["id"] == "did:web:exams.test"
    names = [i["identityHash"] for i in claims["credentialSubject"]["identifier"]]
    assert "张伟" in names and "ZHANG Wei" in names
    did = client.get("/.well-known/did.json").get_json()
    assert did["id"] == "did:web:exams.test"
    assert did["verificationMethod"][0]["publicKeyJwk"] == jwks["keys"][0]


def test_tampered_credential_fails(app, cert, candidate, client):
    token = download(app, candidate, cert.serial)
    jwks = client.get("/.well-known/jwks.json").get_json()
    head, body, sig = token.split(".")
    forged = ".".join([head, body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:], sig])
    with pytest.raises(pyjwt.InvalidTokenError):
        verify_offline(forged, jwks)


def test_revocation_and_suspension_show_in_the_status_lists(app, cert, candidate, examiner,
                                                             client):
    claims = verify_offline(download(app, candidate, cert.serial),
                            client.get("/.well-known/jwks.json").get_json())
    entries = {e["statusPurpose"]: e for e in claims["credentialStatus"]}
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert not status_bit(client, entries["revocation"], jwks)

    lifecycle.suspend(db.session, utcnow(), cert.serial, "Check", examiner.id)
    db.session.commit()
    assert status_bit(client, entries["suspension"], jwks)
    assert not status_bit(client, entries["revocation"], jwks)

    lifecycle.revoke(db.session, utcnow(), cert.serial, "Fraud", examiner.id)
    db.session.commit()
    assert status_bit(client, entries["revocation"], jwks)
    assert not status_bit(client, entries["suspension"], jwks)


def test_key_rotation_keeps_old_credentials_and_removal_drops_them(app, cert, candidate,
                                                                   client, runner):
    old_token = download(app, candidate, cert.serial)
    old_kid = pyjwt.get_unverified_header(old_token)["kid"]

    assert runner.invoke(args=["keys", "generate"]).exit_code == 0
    new_token = download(app, candidate, cert.serial)
    assert pyjwt.get_unverified_header(new_token)["kid"] != old_kid
    jwks = client.get("/.well-known/jwks.json").get_json()
    verify_offline(old_token, jwks)  # the retired key still verifies
    verify_offline(new_token, jwks)
    listing = runner.invoke(args=["keys", "list"]).output
    assert f"{old_kid}  retired" in listing

    refused = runner.invoke(args=["keys", "remove", old_kid])
    assert refused.exit_code != 0
    assert runner.invoke(args=["keys", "remove", old_kid, "--yes"]).exit_code == 0
    jwks = client.get("/.well-known/jwks.json").get_json()
    assert old_kid not in {k["kid"] for k in jwks["keys"]}
    with pytest.raises(KeyError):
        verify_offline(old_token, jwks)
    verify_offline(new_token, jwks)


def test_a_key_whose_thumbprint_begins_with_a_dash_is_managed_from_the_cli(app, runner,
                                                                          monkeypatch):
    """One thumbprint in 64 begins with "-"; its kid must still be typeable as an argument."""
    from joserfc.jwk import OKPKey

    from examsys.certs import keys

    generate_key = OKPKey.generate_key
    while (dashed := generate_key("Ed25519")).thumbprint()[0] != "-":
        pass
    monkeypatch.setattr(OKPKey, "generate_key", staticmethod(lambda *_: dashed))
    with app.app_context():
        kid = keys.generate(db.session, utcnow()).kid
        db.session.commit()
    monkeypatch.undo()
    assert kid.endswith(dashed.thumbprint()) and not kid.startswith("-")

    assert runner.invoke(args=["keys", "generate"]).exit_code == 0
    removed = runner.invoke(args=["keys", "remove", kid, "--yes"])
    assert removed.exit_code == 0, removed.output
    assert f"{kid}  removed" in runner.invoke(args=["keys", "list"]).output


def test_expired_credential_is_rejected_offline(app, cert, candidate, client):
    import time_machine

    token = download(app, candidate, cert.serial)
    jwks = client.get("/.well-known/jwks.json").get_json()
    with time_machine.travel(cert.expires_at), pytest.raises(pyjwt.ExpiredSignatureError):
        verify_offline(token, jwks)


def test_employer_example_script_verifies_offline(app, cert, candidate, client, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    token = download(app, candidate, cert.serial)
    (tmp_path / "cred.jwt").write_text(token)
    (tmp_path / "jwks.json").write_text(client.get("/.well-known/jwks.json")
                                        .get_data(as_text=True))
    (tmp_path / "revocation.jwt").write_text(
        client.get("/credentials/status/revocation").get_data(as_text=True))
    script = Path(__file__).parent.parent / "examples" / "verify_credential.py"
    result = subprocess.run(  # noqa: S603 - this interpreter, our example script
        [sys.executable, str(script), str(tmp_path / "cred.jwt"), "--jwks",
         str(tmp_path / "jwks.json"), "--status-list", str(tmp_path / "revocation.jwt")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "VALID" in result.stdout and cert.serial in result.stdout
