"""Connect-time address checks for outgoing downloads.

Checking a URL when it is submitted is not enough: the host may redirect to an internal
address, or its DNS answer may change between the check and the connection (rebinding).
yt-dlp opens every connection (first request, each redirect, each fragment) through
`socket.getaddrinfo` and then connects to exactly the addresses returned, so the guard sits
there: while a thread is inside `guarded(policy)`, every name it resolves must map only to
addresses the policy allows, or the lookup fails and nothing is connected. Other threads
are untouched.
"""
from __future__ import annotations

import contextlib
import socket
import threading

from server.core.urls import is_public_address

_real_getaddrinfo = socket.getaddrinfo
_local = threading.local()
_install_lock = threading.Lock()


class BlockedAddress(OSError):
    """A connection to a non-public address was refused."""


def _guarded_getaddrinfo(host, port, *args, **kwargs):
    state = getattr(_local, "state", None)
    if state is None:
        return _real_getaddrinfo(host, port, *args, **kwargs)
    infos = state["resolve"](host, port, *args, **kwargs)
    for info in infos:
        address = info[4][0]
        if not state["allow"](address):
            state["refused"] = f"{host} resolves to the non-public address {address}"
            raise BlockedAddress(f"refused to connect: {state['refused']}")
    return infos


def _install() -> None:
    with _install_lock:
        if socket.getaddrinfo is not _guarded_getaddrinfo:
            socket.getaddrinfo = _guarded_getaddrinfo


@contextlib.contextmanager
def guarded(allow=is_public_address, resolve=_real_getaddrinfo):
    """Within the block, this thread may only connect to addresses `allow` accepts.
    Yields a dict whose "refused" entry names the last refusal (None if none)."""
    _install()
    state = {"allow": allow, "resolve": resolve, "refused": None}
    previous = getattr(_local, "state", None)
    _local.state = state
    try:
        yield state
    finally:
        _local.state = previous
