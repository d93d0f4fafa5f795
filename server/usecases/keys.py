"""API keys: create one (the key is shown once and only its hash is kept), list, revoke,
rotate; and authenticate a request's key, taking one request from its rate.

A key's jobs stay its own across rotations: rotation replaces the secret, not the key's
identity, and the old secret may stay valid for a grace period so clients can switch."""
from __future__ import annotations

import math
from dataclasses import dataclass

from server.core.keys import (ApiKey, BadCredentials, Limits, bearer_key, key_hash, new_key,
                              new_webhook_secret, shown)
from server.core.stores import Row
from server.services import Services
from server.usecases import Refused


@dataclass
class NewKey:
    key: str                # shown once, never stored
    webhook_secret: str
    row: Row


def create(s: Services, name: str, *, rate_per_min: float | None = None,
           videos_per_day: int | None = None, source_minutes_per_day: float | None = None) -> NewKey:
    name = name.strip()
    if not name or len(name) > 100 or not name.isprintable():
        raise Refused("invalid", "a key's name is 1 to 100 printable characters")
    for label, value in (("rate", rate_per_min), ("videos per day", videos_per_day),
                         ("minutes per day", source_minutes_per_day)):
        if value is not None and (value < 0 or not math.isfinite(value)):
            raise Refused("invalid", f"{label} must be 0 (unlimited) or more")
    key, secret = new_key(), new_webhook_secret()
    row = s.keys.create(name=name, prefix=shown(key), key_hash=key_hash(key), webhook_secret=secret,
                        rate_per_min=rate_per_min, videos_per_day=videos_per_day,
                        source_minutes_per_day=source_minutes_per_day)
    if row is None:
        raise Refused("conflict", f"a live key is already named {name!r}; revoke it or pick another name")
    return NewKey(key, secret, row)


def listing(s: Services) -> list[Row]:
    return s.keys.all()


def revoke(s: Services, name: str) -> None:
    if not s.keys.revoke(name):
        raise Refused("not_found", f"no live key is named {name!r}")


def rotate(s: Services, name: str, grace_s: float = 0.0) -> str:
    """A new secret for the key `name`; the old one stays valid for `grace_s` seconds."""
    key = new_key()
    if not s.keys.rotate(name, prefix=shown(key), key_hash=key_hash(key), grace_s=max(grace_s, 0.0)):
        raise Refused("not_found", f"no live key is named {name!r}")
    return key


def rotate_webhook_secret(s: Services, name: str) -> str:
    secret = new_webhook_secret()
    if not s.keys.set_webhook_secret(name, secret):
        raise Refused("not_found", f"no live key is named {name!r}")
    return secret


def limits_of(s: Services, row: Row) -> Limits:
    d = s.key_defaults
    return Limits(d.rate_per_min if row["rate_per_min"] is None else row["rate_per_min"],
                  d.videos_per_day if row["videos_per_day"] is None else row["videos_per_day"],
                  d.source_minutes_per_day if row["source_minutes_per_day"] is None
                  else row["source_minutes_per_day"])


def authenticate(s: Services, authorization: str | None) -> ApiKey | None:
    """The key an Authorization header names, once a request is taken from its rate; None
    without the header. Refused: a malformed header, an unknown or revoked key (401), a
    spent rate (429 with the wait)."""
    try:
        key = bearer_key(authorization)
    except BadCredentials as e:
        raise Refused("unauthorized", str(e)) from None
    if key is None:
        return None
    digest = key_hash(key)
    row = s.keys.take(digest, s.cfg.api_key_rate_per_min)
    if row is not None:
        return ApiKey(row["id"], row["name"], limits_of(s, row))
    why = s.keys.refusal(digest, s.cfg.api_key_rate_per_min)
    if why is None:
        raise Refused("unauthorized", "this API key is not valid (unknown, or replaced by a rotation)")
    if why["revoked"]:
        raise Refused("unauthorized", "this API key was revoked")
    raise Refused("rate_limited", "this API key's request rate is spent; retry after the number "
                                  "of seconds in Retry-After", retry_after_s=max(why["wait_s"], 0.0))
