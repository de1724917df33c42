"""The worker's outgoing HTTP: push messages and the SMS gateway, over libcurl (pycurl).

In a burst of alarms the sending itself is what the machine spends its time on. A POST through
urllib3 cost 0.45–0.56 ms of Python (its pool manager, http.client, the email parser reading the
answer's headers); through libcurl it costs 0.09 ms, and libcurl waits for the answer without the
GIL (measured in bench/README.md). Each sending thread has one curl handle, which keeps its
connections alive between messages. What the worker needs of its HTTP is kept: the proxy from the
environment (HTTPS_PROXY, NO_PROXY, read once per origin, as requests reads them; a login in the
proxy's URL is sent to it), the CA bundle (REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else certifi's),
certificate checks, no redirects followed, and, for push endpoints, connections that refuse a
private peer: the address is checked as the socket is opened, after the name is resolved and
before anything is sent, so there is no window between check and connect.
"""
from __future__ import annotations

import json as jsonlib
import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import pycurl
from requests.structures import CaseInsensitiveDict
from requests.utils import get_environ_proxies, select_proxy

from app.services.push_subscriptions import PRIVATE_PEER, EndpointRefused, is_public

# The longest answer kept: the senders read a status, two headers and a few hundred characters.
MOST_KEPT = 64 * 1024


class NoAnswer(OSError):
    """The post was not answered (refused, cut off, timed out): the send is retried."""

    def __init__(self, code: int, message: str):
        super().__init__(code, message)
        self.code = code

    @property
    def timed_out(self) -> bool:
        return self.code == pycurl.E_OPERATION_TIMEDOUT


# Every way a post can fail to be answered (a send is then retried; see retry_reason): NoAnswer,
# or EndpointRefused, which a caller sending to push endpoints checks first.
Unreachable = OSError


@dataclass
class Answer:
    """The little of a response the senders read (and pywebpush: status_code, reason, text)."""

    status_code: int
    reason: str
    text: str
    headers: CaseInsensitiveDict

    @property
    def ok(self) -> bool:
        """Accepted (2xx). Redirects are not followed: a 3xx is not a message sent."""
        return 200 <= self.status_code < 300


class Outbound:
    """One per sending thread (a curl handle is used by one thread at a time). `guarded`: every
    direct connection must reach a public address (through a proxy the peer is the proxy, and
    checking the destination is its job)."""

    def __init__(self, *, guarded: bool = False):
        self.guarded = guarded
        self.routes: dict[tuple[str, str], str] = {}  # origin -> its proxy, "" for none
        self.refused = False
        self._body: list[bytes] = []
        self._kept = 0
        self._header_lines: list[bytes] = []
        curl = self.curl = pycurl.Curl()
        curl.setopt(pycurl.NOSIGNAL, 1)  # timeouts without signals: the handle lives in a thread
        curl.setopt(pycurl.MAXCONNECTS, 16)
        curl.setopt(pycurl.PROTOCOLS, pycurl.PROTO_HTTP | pycurl.PROTO_HTTPS)
        curl.setopt(pycurl.HTTP_VERSION, pycurl.CURL_HTTP_VERSION_1_1)
        curl.setopt(pycurl.FOLLOWLOCATION, 0)
        curl.setopt(pycurl.TCP_NODELAY, 1)
        curl.setopt(pycurl.SSL_VERIFYPEER, 1)
        curl.setopt(pycurl.SSL_VERIFYHOST, 2)
        ca_certs = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        curl.setopt(pycurl.CAINFO, ca_certs)
        curl.setopt(pycurl.PROXY_CAINFO, ca_certs)
        curl.setopt(pycurl.NOPROXY, "")  # which origins skip the proxy is decided once, below
        curl.setopt(pycurl.WRITEFUNCTION, self._keep)
        curl.setopt(pycurl.HEADERFUNCTION, self._header_lines.append)

    def _proxy(self, url: str) -> str:
        origin = tuple(urlsplit(url)[:2])
        if origin not in self.routes:
            self.routes[origin] = select_proxy(url, get_environ_proxies(url)) or ""
        return self.routes[origin]

    def _keep(self, chunk: bytes) -> None:
        if self._kept < MOST_KEPT:
            self._body.append(chunk)
            self._kept += len(chunk)

    def _open_public_only(self, purpose, address):
        """libcurl's socket(2): refuses an address that is not public (CURL_SOCKET_BAD)."""
        if not is_public(address.addr[0]):
            self.refused = True
            return pycurl.SOCKET_BAD
        return socket.socket(address.family, address.socktype, address.protocol)

    def post(self, url: str, *, data: bytes | None = None, json: object = None,
             headers: dict | None = None, timeout: float) -> Answer:
        headers = {name.lower(): str(value) for name, value in (headers or {}).items()}
        if json is not None:
            data = jsonlib.dumps(json, separators=(",", ":")).encode()
            headers.setdefault("content-type", "application/json")
        # libcurl would add a form Content-Type and Expect: 100-continue (a round trip) for a POST.
        headers.setdefault("content-type", "")
        headers.setdefault("expect", "")
        curl, proxy = self.curl, self._proxy(url)
        curl.setopt(pycurl.URL, url)
        curl.setopt(pycurl.PROXY, proxy)
        if self.guarded and not proxy:
            curl.setopt(pycurl.OPENSOCKETFUNCTION, self._open_public_only)
        else:
            curl.unsetopt(pycurl.OPENSOCKETFUNCTION)
        curl.setopt(pycurl.POSTFIELDS, data or b"")
        curl.setopt(pycurl.HTTPHEADER, [f"{name}: {value}" if value else f"{name}:"
                                        for name, value in headers.items()])
        curl.setopt(pycurl.CONNECTTIMEOUT_MS, max(1, int(timeout * 1000)))
        curl.setopt(pycurl.TIMEOUT_MS, max(1, int(timeout * 2000)))  # connecting, then answering
        self.refused, self._kept = False, 0
        self._body.clear()
        self._header_lines.clear()
        try:
            curl.perform()
        except pycurl.error as error:
            if self.refused:
                raise EndpointRefused(PRIVATE_PEER) from None
            code, message = error.args
            raise NoAnswer(code, message) from None
        return self._answer(curl.getinfo(pycurl.RESPONSE_CODE))

    def _answer(self, status: int) -> Answer:
        # The header lines of every response in the exchange (a proxy's CONNECT answer first):
        # only the last response's are the answer's.
        reason, found = "", CaseInsensitiveDict()
        for raw in self._header_lines:
            line = raw.decode("iso-8859-1").rstrip("\r\n")
            if line.startswith("HTTP/"):
                reason, found = line.split(" ", 2)[2] if line.count(" ") >= 2 else "", CaseInsensitiveDict()
            elif ":" in line:
                name, _, value = line.partition(":")
                found[name.strip()] = value.strip()
        return Answer(status, reason, b"".join(self._body).decode("utf-8", "replace"), found)


# What a failed post's libcurl error reads as in a delivery's last error.
_WHY = {pycurl.E_COULDNT_RESOLVE_HOST: "name not found", pycurl.E_COULDNT_RESOLVE_PROXY: "proxy not found",
        pycurl.E_COULDNT_CONNECT: "connection refused", pycurl.E_GOT_NOTHING: "empty answer",
        pycurl.E_SEND_ERROR: "connection lost", pycurl.E_RECV_ERROR: "connection lost",
        pycurl.E_SSL_CONNECT_ERROR: "TLS failed", pycurl.E_PEER_FAILED_VERIFICATION: "certificate not trusted"}


def retry_reason(error: BaseException, peer: str) -> str:
    """What to record for a post that got no answer, e.g. "SMS gateway did not answer in time"."""
    if isinstance(error, NoAnswer):
        if error.timed_out:
            return f"{peer} did not answer in time"
        return f"{peer} unreachable ({_WHY.get(error.code, f'curl error {error.code}')})"
    return f"{peer} unreachable ({type(error).__name__})"
