"""Sends one webhook: an HTTP POST through http.client, with the same address rules as
video downloads.

The URL was checked when it was submitted; the connection is checked again here
(server/adapters/connect_guard.py), so a DNS answer that changed since then cannot point
the server into its own network. No redirect is followed (a 3xx is an answer like any
non-2xx), no proxy is taken from the environment, and a receiver gets `timeout_s` to
connect and `timeout_s` in all to answer: a watchdog closes the socket of one that drips
its headers. The response body is never read.
"""
from __future__ import annotations

import contextlib
import http.client
import socket
import threading
from typing import Callable
from urllib.parse import urlsplit

from server.adapters.connect_guard import BlockedAddress, guarded
from server.core.failures import fatal, retryable

USER_AGENT = "clips-webhooks/1"


class HttpWebhookSender:
    def __init__(self, timeout_s: float, address_policy: Callable[[str], bool] | None):
        """`address_policy`: which addresses may be connected to (None: any, for
        development with ALLOW_PRIVATE_URLS)."""
        self.timeout_s = timeout_s
        self.policy = address_policy

    def send(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise fatal("invalid_url", "the webhook URL is not an http(s) URL")
        cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(parts.hostname, parts.port, timeout=self.timeout_s)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        watchdog = threading.Timer(self.timeout_s, _abort, (conn,))
        try:
            with guarded(self.policy) if self.policy else contextlib.nullcontext():
                conn.connect()
            watchdog.start()
            conn.request("POST", path, body=body, headers={**headers, "user-agent": USER_AGENT})
            return conn.getresponse().status
        except BlockedAddress as e:
            raise fatal("private_url", f"the webhook was not sent: {e}") from None
        except (OSError, http.client.HTTPException) as e:
            what = "timed out" if isinstance(e, (TimeoutError, socket.timeout)) or watchdog.finished.is_set() \
                else f"failed ({type(e).__name__})"
            raise retryable("network", f"the webhook receiver {what}") from None
        finally:
            watchdog.cancel()
            conn.close()


def _abort(conn: http.client.HTTPConnection) -> None:
    """Ends a request that outlived its time: the blocked read fails at once."""
    if conn.sock is not None:
        try:
            conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

