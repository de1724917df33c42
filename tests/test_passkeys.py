"""Passkeys and security keys over real HTTP, answered by a software authenticator that makes a
real P-256 key pair and signs real WebAuthn data (clientDataJSON, authenticator data, COSE key),
so the `webauthn` library checks genuine signatures: registration, sign-in, and the refusals."""
import hashlib
import json
import os
import re
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import select

from app.db import unit_of_work
from app.models import Passkey, User
from tests.conftest import _signed_in
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

ORIGIN, RP_ID = "http://localhost", "localhost"


class SoftwareAuthenticator:
    """A security key in a test: one credential, a counter, and signatures a real key would make."""

    def __init__(self, origin=ORIGIN, rp_id=RP_ID):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0
        self.origin, self.rp_id = origin, rp_id

    def _client_data(self, kind, challenge):
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def _auth_data(self, flags, attested=b""):
        self.counter += 1
        return hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags]) + struct.pack(">I", self.counter) + attested

    def create(self, options):
        numbers = self.key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})
        attested = bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + cose
        auth_data = self._auth_data(0x41, attested)  # user present, attested credential data
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        raw_id = bytes_to_base64url(self.credential_id)
        return {"id": raw_id, "rawId": raw_id, "type": "public-key", "response": {
            "clientDataJSON": bytes_to_base64url(self._client_data("webauthn.create", options["challenge"])),
            "attestationObject": bytes_to_base64url(attestation)}}

    def get(self, options):
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = self._auth_data(0x01)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        raw_id = bytes_to_base64url(self.credential_id)
        return {"id": raw_id, "rawId": raw_id, "type": "public-key", "response": {
            "clientDataJSON": bytes_to_base64url(client_data), "authenticatorData": bytes_to_base64url(auth_data),
            "signature": bytes_to_base64url(signature), "userHandle": None}}


def _csrf(client, page):
    return re.search(r'"X-CSRFToken": "([^"]+)"', client.get(page).get_data(as_text=True)).group(1)


def _json(client, url, token, body=None):
    return client.post(url, json=body or {}, headers={"X-CSRFToken": token, "Accept": "application/json"})


def _register(client, authenticator, name="Blue key"):
    token = _csrf(client, "/account")
    options = _json(client, "/account/passkeys/options", token).json
    assert options["rp"]["id"] == RP_ID and base64url_to_bytes(options["challenge"])
    return _json(client, "/account/passkeys", token, {"credential": authenticator.create(options), "name": name})


def _sign_in_with(app, persona, authenticator, remember=False):
    client = app.test_client()
    assert client.login(persona.email).headers["Location"] == "/login/second-factor"
    token = _csrf(client, "/login/second-factor")
    options = _json(client, "/login/second-factor/passkey/options", token).json
    answer = _json(client, "/login/second-factor/passkey", token,
                   {"credential": authenticator.get(options), "remember": remember})
    return client, answer


def test_a_security_key_is_registered_and_then_signs_in(app, engine, personas):
    supervisor = personas["supervisor"]
    key = SoftwareAuthenticator()
    client = _signed_in(app, supervisor)
    added = _register(client, key)
    assert added.status_code == 200 and added.json == {"next": "/account"}
    page = client.get("/account").get_data(as_text=True)
    assert "Blue key" in page and "js/passkeys.js" in page
    with unit_of_work(engine) as session:
        session.get(User, supervisor.id).second_factor_exempt = False
        assert session.exec(select(Passkey)).one().sign_count == 1
    signed_in, answer = _sign_in_with(app, supervisor, key)
    assert answer.status_code == 200 and answer.json == {"next": "/"}
    assert signed_in.get("/").status_code == 200
    with unit_of_work(engine) as session:
        assert session.exec(select(Passkey)).one().sign_count == 2


def test_a_wrong_key_a_replayed_answer_and_another_site_are_refused(app, engine, personas):
    supervisor = personas["supervisor"]
    key = SoftwareAuthenticator()
    assert _register(_signed_in(app, supervisor), key).status_code == 200
    # A key nobody registered, with the same credential id: its signature doesn't verify.
    impostor = SoftwareAuthenticator()
    impostor.credential_id, impostor.counter = key.credential_id, 10
    client, answer = _sign_in_with(app, supervisor, impostor)
    assert answer.status_code == 401 and client.get("/").status_code == 303
    # A genuine answer sent twice: the challenge was used up by the first.
    client = app.test_client()
    client.login(supervisor.email)
    token = _csrf(client, "/login/second-factor")
    signed = key.get(_json(client, "/login/second-factor/passkey/options", token).json)
    assert _json(client, "/login/second-factor/passkey", token, {"credential": signed}).status_code == 200
    again = app.test_client()
    again.login(supervisor.email)
    token = _csrf(again, "/login/second-factor")
    assert _json(again, "/login/second-factor/passkey", token, {"credential": signed}).status_code == 401
    # A phishing site's origin, relayed.
    phished = SoftwareAuthenticator(origin="http://fieldline.example.net")
    phished.key, phished.credential_id, phished.counter = key.key, key.credential_id, key.counter
    _, answer = _sign_in_with(app, supervisor, phished)
    assert answer.status_code == 401


def test_a_registration_for_another_site_is_refused(app, engine, personas):
    client = _signed_in(app, personas["worker"])
    refused = _register(client, SoftwareAuthenticator(rp_id="evil.example"))
    assert refused.status_code == 422 and "could not be added" in refused.json["error"]
    with unit_of_work(engine) as session:
        assert session.exec(select(Passkey)).all() == []
