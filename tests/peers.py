"""Real protocol peers started on 127.0.0.1 inside the tests.

- PushReceiver: a push service. Checks the VAPID Authorization header (ES256 signature against the
  key it names, aud, exp, sub), requires aes128gcm, and decrypts each message with the
  subscription's private key, as a browser would.
- SmsGateway: the stand-in for an organisation's SMS/voice provider (the one part that can't
  exist here): records the JSON it is sent and answers as told, and honours the de-duplication
  contract a gateway must keep (README, Notifications): a repeat of an Idempotency-Key it has
  taken is answered as the first was and sends nothing more.
- smtp_server(): aiosmtpd, a real SMTP server; HangingServer: accepts and never says a word.
"""
from __future__ import annotations

import base64
import json
import os
import socket
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import http_ece
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.services.push_subscriptions import EndpointRule

# The push-endpoint rule for receivers started here on http://127.0.0.1 (a test-only setting).
LOCAL_PUSH = EndpointRule(allow_private=True)


def b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url(value: bytes) -> str:
    return base64.urlsafe_b64encode(value).rstrip(b"=").decode()


@dataclass
class PushMessage:
    path: str
    headers: dict
    payload: dict
    claims: dict
    vapid_key: str
    received_at: float = field(default_factory=time.time)
    arrived_at: float = 0.0  # when the request came in, before it was checked and decrypted


@dataclass
class _Device:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def get_request(self):
        # As real HTTP servers do on keep-alive connections: an answer written in two parts
        # (headers, then body) would otherwise wait for the client's delayed ACK, 40 ms a request.
        connection, address = super().get_request()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection, address


class _Peer:
    def __init__(self, handler):
        self.server = _Server(("127.0.0.1", 0), handler)
        self.server.peer = self
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.lock = threading.Lock()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.release.set() if hasattr(self, "release") else None
        self.server.shutdown()
        self.server.server_close()


class _PushHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real push services allow

    def log_message(self, *args):
        pass

    def do_POST(self):
        peer: PushReceiver = self.server.peer
        arrived_at = time.time()
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if peer.check_later:  # taken as it came; checked and decrypted by check_what_came()
            with peer.lock:
                peer.unchecked.append((self.path, dict(self.headers), body, arrived_at))
            time.sleep(peer.delay)
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        behaviour = peer.next_behaviour(self.path)
        if behaviour == "hang":
            peer.hung.set()
            peer.release.wait(120)  # released when the test ends; long enough for a loaded machine
            behaviour = 201
        try:
            message = peer.verify_and_decrypt(self.path, dict(self.headers), body)
        except AssertionError as problem:
            peer.errors.append(str(problem))
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        message.arrived_at = arrived_at
        with peer.lock:
            peer.attempts.append(message)
            if behaviour == 201:
                peer.messages.append(message)
        self.send_response(behaviour)
        self.send_header("Content-Length", "0")
        self.end_headers()


class PushReceiver(_Peer):
    """`check_later`: answer 201 at once and check each message (VAPID signature, decryption)
    only when asked (check_what_came): for a benchmark whose receiver shares the machine's few
    cores with the server it measures, as a push service would not."""

    def __init__(self, application_server_key: str | None = None, *, check_later: bool = False):
        super().__init__(_PushHandler)
        self.application_server_key = application_server_key
        self.check_later = check_later
        self.unchecked: list[tuple[str, dict, bytes, float]] = []
        self.devices: dict[str, _Device] = {}
        self.behaviours: dict[str, list] = {}
        self.messages: list[PushMessage] = []  # accepted (201)
        self.attempts: list[PushMessage] = []  # every well-formed request, whatever we answered
        self.errors: list[str] = []
        self.hung = threading.Event()
        self.release = threading.Event()
        self.delay = 0.0  # seconds each answer takes with check_later (a push service's round trip)

    def subscription(self, name: str = "phone") -> dict:
        """What a browser's PushSubscription.toJSON() gives, for a device at this receiver."""
        private_key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        self.devices[f"/push/{name}"] = _Device(private_key, auth)
        public = private_key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.url}/push/{name}", "expirationTime": None,
                "keys": {"p256dh": b64url(public), "auth": b64url(auth)}}

    def answer(self, name: str, *behaviours) -> None:
        """Answer the next requests for this device with these statuses (or "hang"), then 201."""
        self.behaviours[f"/push/{name}"] = list(behaviours)

    def next_behaviour(self, path: str):
        with self.lock:
            queue = self.behaviours.get(path)
            return queue.pop(0) if queue else 201

    def check_what_came(self) -> None:
        """Check and decrypt every message taken unchecked: into messages, or errors."""
        with self.lock:
            taken, self.unchecked = self.unchecked, []
        for path, headers, body, arrived_at in taken:
            try:
                message = self.verify_and_decrypt(path, headers, body)
            except AssertionError as problem:
                self.errors.append(str(problem))
                continue
            message.arrived_at = arrived_at
            self.attempts.append(message)
            self.messages.append(message)

    def verify_and_decrypt(self, path: str, headers: dict, body: bytes) -> PushMessage:
        headers = {k.lower(): v for k, v in headers.items()}
        assert path in self.devices, f"unknown device {path}"
        assert headers.get("content-encoding") == "aes128gcm", "payload must be aes128gcm"
        assert "ttl" in headers, "TTL header missing"
        scheme, _, params = headers.get("authorization", "").partition(" ")
        assert scheme == "vapid", "Authorization must use the vapid scheme"
        parts = dict(item.strip().split("=", 1) for item in params.split(","))
        token, key = parts["t"], parts["k"]
        if self.application_server_key:
            assert key == self.application_server_key, "signed with a key other than the app's"
        header_b64, claims_b64, signature_b64 = token.split(".")
        assert json.loads(b64url_decode(header_b64))["alg"] == "ES256"
        signature = b64url_decode(signature_b64)
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))  # raises if forged
        claims = json.loads(b64url_decode(claims_b64))
        assert claims["aud"] == f"{urlsplit(self.url).scheme}://{urlsplit(self.url).netloc}", "aud must be the origin"
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, "exp must be within 24 h"
        assert claims["sub"].startswith(("mailto:", "https:")), "sub must be mailto: or https:"
        device = self.devices[path]
        plaintext = http_ece.decrypt(body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm")
        return PushMessage(path, headers, json.loads(plaintext), claims, key)


class _GatewayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        peer: SmsGateway = self.server.peer
        arrived_at = time.time()
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        key = self.headers.get("Idempotency-Key")
        with peer.lock:
            status = peer.statuses.pop(0) if peer.statuses else 202
            peer.requests.append({"json": body, "authorization": self.headers.get("Authorization"), "status": status,
                                  "idempotency_key": key, "at": arrived_at})
            seen = peer.taken.get(key) if key else None
            if seen is None and (status == "hang" or status < 300):
                peer.texts.append(body)  # on its way to the phone
                seen = peer.taken[key] = (202, f"msg-{len(peer.texts)}") if key else None
            elif seen is not None:
                status = seen[0]  # a repeat: answered as the first was, nothing more is sent
        time.sleep(peer.delay)
        if status == "hang":  # it took the text, and its answer never comes
            peer.hung.set()
            peer.release.wait(120)  # released when the test ends; long enough for a loaded machine
            return
        message_id = seen[1] if seen else f"msg-{len(peer.requests)}"
        answer = json.dumps({"id": message_id, "status": "queued" if status < 300 else "error"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class SmsGateway(_Peer):
    def __init__(self):
        super().__init__(_GatewayHandler)
        self.requests: list[dict] = []  # every request, repeats included
        self.texts: list[dict] = []  # what reached phones: once per Idempotency-Key
        self.taken: dict[str, tuple[int, str]] = {}
        self.statuses: list = []  # answers for the next requests (a status, or "hang"), then 202
        self.delay = 0.0  # seconds each answer takes (a slow provider)
        self.hung = threading.Event()
        self.release = threading.Event()


class HangingServer:
    """A TCP server that accepts connections and never answers (a hung mail server)."""

    def __init__(self):
        import socket

        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.connections: list = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.connections.append(connection)  # held open, silent

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.socket.close()
        for connection in self.connections:
            connection.close()


@dataclass
class Mailbox:
    messages: list = field(default_factory=list)

    def wait_for(self, count: int, seconds: float = 15.0) -> list:
        """The messages, once at least `count` have arrived (some are sent after the answer)."""
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes
        from email.policy import default

        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default)))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server():
    from aiosmtpd.controller import Controller

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailbox.url = f"smtp://127.0.0.1:{port}"
        yield mailbox
    finally:
        controller.stop()
