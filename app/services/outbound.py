"""The worker's outgoing HTTP: push messages and the SMS gateway, over urllib3's keep-alive pools.

In a burst of alarms the sending itself is what the machine spends its time on, and requests costs
twice what urllib3 does under it (preparing the request, merging settings and hooks): 0.9 of the
1.7 ms of CPU a push took, measured in bench/README.md. The worker posts to a few origins with
settings fixed for its life, so it talks to urllib3 itself. What requests gave is kept: the proxy
from the environment (HTTPS_PROXY, NO_PROXY; read once per origin), the CA bundle
(REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE, else certifi's, as requests), certificate checks, and, for
push endpoints, connections that refuse a private peer (push_subscriptions.GuardedPool).
"""
from __future__ import annotations

import json as jsonlib
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

import certifi
import urllib3
from requests.utils import get_auth_from_url, get_environ_proxies, select_proxy

from app.services.push_subscriptions import GuardedPool

# Every way a post can fail to be answered (a send is then retried; see retry_reason).
# EndpointRefused is one of them too: a caller sending to push endpoints checks it first.
Unreachable = (urllib3.exceptions.HTTPError, OSError)


@dataclass
class Answer:
    """The little of a response the senders read (and pywebpush: status_code, reason, text)."""

    status_code: int
    reason: str
    text: str
    headers: urllib3.HTTPHeaderDict

    @property
    def ok(self) -> bool:
        """Accepted (2xx). Redirects are not followed: a 3xx is not a message sent."""
        return 200 <= self.status_code < 300


class Outbound:
    """One per sending thread (urllib3's pools are thread-safe, but a thread of its own never waits
    for another's connection). `guarded`: every connection must reach a public address."""

    def __init__(self, *, guarded: bool = False):
        self.guarded = guarded
        self.ca_certs = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where()
        self.direct = self._manager(None)
        self.via_proxy: dict[str, urllib3.PoolManager] = {}
        self.routes: dict[tuple[str, str], urllib3.PoolManager] = {}

    def _manager(self, proxy: str | None) -> urllib3.PoolManager:
        options = {"num_pools": 16, "maxsize": 1, "cert_reqs": "CERT_REQUIRED", "ca_certs": self.ca_certs}
        if proxy:
            # Through an egress proxy the peer is the proxy: checking the destination is its job.
            # A login in the proxy's URL is sent as requests would (urllib3 leaves it out).
            user, password = get_auth_from_url(proxy)
            headers = urllib3.make_headers(proxy_basic_auth=f"{user}:{password}") if user else None
            return urllib3.ProxyManager(proxy, proxy_headers=headers, **options)
        manager = urllib3.PoolManager(**options)
        if self.guarded:
            # Only https: check_endpoint refuses every other scheme before a request is made.
            manager.pool_classes_by_scheme = {"https": GuardedPool}
        return manager

    def _route(self, url: str) -> urllib3.PoolManager:
        origin = tuple(urlsplit(url)[:2])
        if origin not in self.routes:
            proxy = select_proxy(url, get_environ_proxies(url))
            if proxy and proxy not in self.via_proxy:
                self.via_proxy[proxy] = self._manager(proxy)
            self.routes[origin] = self.via_proxy[proxy] if proxy else self.direct
        return self.routes[origin]

    def post(self, url: str, *, data: bytes | None = None, json: object = None,
             headers: dict | None = None, timeout: float) -> Answer:
        headers = dict(headers or {})
        if json is not None:
            data = jsonlib.dumps(json, separators=(",", ":")).encode()
            headers.setdefault("Content-Type", "application/json")
        response = self._route(url).request(
            "POST", url, body=data or b"", headers=headers, timeout=urllib3.Timeout(connect=timeout, read=timeout),
            retries=False, redirect=False)
        return Answer(response.status, response.reason or "", response.data.decode("utf-8", "replace"),
                      response.headers)


def retry_reason(error: BaseException, peer: str) -> str:
    """What to record for a post that got no answer, e.g. "SMS gateway did not answer in time".
    urllib3 counts a failed connection as a kind of timeout: that one reads as unreachable."""
    if isinstance(error, urllib3.exceptions.TimeoutError) and not isinstance(
            error, urllib3.exceptions.NewConnectionError):
        return f"{peer} did not answer in time"
    return f"{peer} unreachable ({type(error).__name__})"
