"""Who is calling a public endpoint: an API key named by `Authorization: Bearer <key>`
(any case of `Bearer`), or nobody. A key is checked, and one request taken from its
rate, before the view runs; its requests then skip the per-address buckets, since the
key's own rate (shared by every web process, in Postgres) limits them. The internal
token is not a key: it opens /internal/* only (server/api/internal.py)."""
from __future__ import annotations

from flask import Response, g, request

from server import get_services as services
from server.api.contract import refusal
from server.core.keys import ApiKey
from server.usecases import Refused, keys

# Endpoints that create work: they need a key unless ALLOW_ANONYMOUS_SUBMIT.
SUBMISSIONS = frozenset({"public.submit_video", "uploads.create_upload", "audio.submit"})


def identify() -> tuple[Response, int] | None:
    """Sets `g.api_key` for a /public/ request; a refusal (401, 429) to answer instead."""
    g.api_key = None
    if not request.path.startswith("/public/") or request.method == "OPTIONS":
        return None
    s = services()
    try:
        g.api_key = keys.authenticate(s, request.headers.get("Authorization"))
    except Refused as e:
        return refusal(e)
    if g.api_key is None and request.endpoint in SUBMISSIONS and not s.cfg.allow_anonymous_submit:
        return refusal(Refused("unauthorized", "this server takes submissions with an API key only: "
                                               "send 'Authorization: Bearer <key>'"))
    return None


def current_key() -> ApiKey | None:
    return g.get("api_key")


def current_key_id() -> int | None:
    key = current_key()
    return key.id if key else None


def required_key() -> ApiKey:
    key = current_key()
    if key is None:
        raise Refused("unauthorized", "this endpoint needs an API key: send "
                                      "'Authorization: Bearer <key>'")
    return key
