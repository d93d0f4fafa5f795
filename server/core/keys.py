"""API keys: what a key looks like, how it is stored, how a request names one, and the
limits that apply to it.

A key is `ck_` and 256 random bits (43 URL-safe characters). Only its SHA-256 is stored.
A slow password hash (bcrypt, argon2) protects guessable secrets at the cost of tens of
milliseconds per check; a key drawn from 2^256 values cannot be guessed or reversed from
its hash, so a fast hash loses nothing and lets every request be looked up by an index.
An HMAC with a server pepper would add a second secret to keep, back up and rotate, and
would protect nothing more for keys this long.
"""
from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass

KEY_PREFIX = "ck_"
KEY_PATTERN = re.compile(r"^ck_[A-Za-z0-9_-]{43}$")
SHOWN_CHARS = 11            # "ck_" and 8 characters: enough to tell keys apart in a list
_BEARER = re.compile(r"^bearer[ \t]+(\S+)[ \t]*$", re.I)     # the scheme is case-insensitive


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def shown(key: str) -> str:
    """The part of a key that lists show, to recognise it."""
    return key[:SHOWN_CHARS]


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class BadCredentials(ValueError):
    """The Authorization header is there but does not carry a usable key."""


def bearer_key(header: str | None) -> str | None:
    """The key an `Authorization: Bearer <key>` header carries (RFC 7235: any case of
    `Bearer`), or None without the header. A header in another scheme, or a token that
    cannot be a key, raises BadCredentials."""
    if header is None or not header.strip():
        return None
    m = _BEARER.match(header.strip())
    if m is None:
        raise BadCredentials("the Authorization header must be 'Bearer <API key>'")
    if not KEY_PATTERN.match(m.group(1)):
        raise BadCredentials("the bearer token is not an API key of this server (ck_...)")
    return m.group(1)


@dataclass(frozen=True)
class Limits:
    """What one key may do; 0 means unlimited."""
    rate_per_min: float
    videos_per_day: int
    source_minutes_per_day: float


@dataclass(frozen=True)
class ApiKey:
    """The key a request was made with, once checked."""
    id: int
    name: str
    limits: Limits
