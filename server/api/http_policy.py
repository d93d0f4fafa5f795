"""What every public response goes through: per-client rate limits, a body-size cap per
endpoint, the caller's API key (server/api/auth.py), Range headers the file responses can
honour, security headers and CORS.

Body limits are counted as the body is read, whatever its framing (Content-Length or
chunked): `CappedInput` raises 413 on the first byte past the limit, so a chunked body
cannot get round a limit that only looks at the Content-Length header. (werkzeug's own
`max_content_length` stops reading at the limit and hands over the body cut short, which
turns into a misleading 400.) `server.edge` applies the same `body_limit` while it buffers
a body, before any of it reaches a thread.

Rate limits are token buckets in this process's memory, keyed by client address. They
are per process: with N gunicorn workers a client gets up to N times the configured rate.
That is deliberate: a Postgres round trip per status poll would cost more than the polls
it limits, and the limits exist to blunt floods, not to meter usage exactly.
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from flask import Flask, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_range_header

from server.api import auth
from server.usecases.uploads import MAX_CHUNK_BYTES
from server.settings import Settings

# Which endpoints draw from which bucket.
_LIMITED = {
    "public.submit_video": "submit",
    "uploads.create_upload": "submit",
    "audio.submit": "submit",
    "public.video_status": "status",
    "public.video_statuses": "status",
    "public.transcript": "status",
    "clips.render_clip": "submit",
    "clips.clip_file": "status",
    "clips.archive": "status",
}
_MAX_CLIENTS = 50_000       # buckets kept before idle ones are dropped
# A multipart upload's body is the file plus boundaries and a few small fields; the view
# refuses a file over its own limit, naming it, so the body may run this much over.
FORM_SLACK_BYTES = 1 << 20

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
       "media-src 'self' https: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")


class TokenBuckets:
    """`per_minute` requests a minute, in bursts of up to `per_minute`, for each key."""

    def __init__(self, per_minute: float, clock=time.monotonic):
        self.capacity = per_minute
        self.refill_per_s = per_minute / 60.0
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}     # key -> (tokens, updated)
        self.lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 if the request may go ahead, else the seconds until it could."""
        now = self.clock()
        with self.lock:
            tokens, updated = self.buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - updated) * self.refill_per_s)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                wait = 0.0
            else:
                self.buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.refill_per_s
            if len(self.buckets) > _MAX_CLIENTS:
                self._drop_idle(now)
        return wait

    def _drop_idle(self, now: float) -> None:
        full_after = self.capacity / self.refill_per_s
        self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < full_after}


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int      # the most body bytes read for the request
    message: str        # the 413's error text, naming the limit


def body_limit(cfg: Settings, endpoint: str | None, mimetype: str) -> BodyLimit:
    """The body limit of one endpoint: uploads take files, everything else takes small
    JSON bodies."""
    multipart = mimetype == "multipart/form-data"
    if endpoint == "public.submit_video" and multipart:
        return BodyLimit(cfg.max_upload_bytes + FORM_SLACK_BYTES,
                         f"the file is larger than {cfg.max_upload_bytes} bytes (MAX_UPLOAD_BYTES)")
    if endpoint == "audio.submit" and multipart:
        return BodyLimit(cfg.max_audio_enhance_bytes + FORM_SLACK_BYTES,
                         f"the file is larger than {cfg.max_audio_enhance_bytes} bytes "
                         "(MAX_AUDIO_ENHANCE_BYTES)")
    if endpoint == "uploads.put_chunk":
        return BodyLimit(MAX_CHUNK_BYTES, f"a chunk may carry at most {MAX_CHUNK_BYTES} bytes")
    return BodyLimit(cfg.max_request_bytes,
                     f"the request body is larger than {cfg.max_request_bytes} bytes (MAX_REQUEST_BYTES)")


class CappedInput:
    """`wsgi.input` that raises 413 once more than `limit` bytes have come through it."""

    def __init__(self, stream, limit: int):
        self.stream = stream
        self.limit = limit
        self.seen = 0

    def _count(self, data: bytes) -> bytes:
        self.seen += len(data)
        if self.seen > self.limit:
            raise RequestEntityTooLarge()
        return data

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size >= 0:
            return self._count(self.stream.read(size))
        parts = []
        while block := self._count(self.stream.read(1 << 16)):
            parts.append(block)
        return b"".join(parts)

    def readline(self, size: int | None = -1) -> bytes:
        return self._count(self.stream.readline(size if size is not None else -1))


def drop_unusable_range(environ: dict) -> None:
    """A Range header that is malformed, in another unit than bytes, or that asks for
    several ranges, is ignored: the answer is the whole file (200), as RFC 9110 allows.
    werkzeug would answer 416. A single byte range beyond the end still gets 416, with
    `Content-Range: bytes */<size>`."""
    header = environ.get("HTTP_RANGE")
    if header is not None:
        parsed = parse_range_header(header)
        if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
            del environ["HTTP_RANGE"]


def client_address(trusted_proxies: int) -> str:
    """The peer address, or with N trusted proxies in front, the address the outermost of
    them saw (the Nth entry from the right of X-Forwarded-For; entries further left are
    written by the client and cannot be trusted)."""
    if trusted_proxies > 0:
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if len(hops) >= trusted_proxies:
            return hops[-trusted_proxies]
    return request.remote_addr or "unknown"


def install(app: Flask, cfg: Settings) -> None:
    buckets = {name: TokenBuckets(rate) for name, rate in
               (("submit", cfg.rate_limit_submit_per_min), ("status", cfg.rate_limit_status_per_min))
               if rate > 0}
    origins = {o.strip().rstrip("/") for o in cfg.cors_origins.split(",") if o.strip()}
    app.extensions["rate_limits"] = buckets

    @app.before_request
    def limit():
        g.body_limit = body_limit(cfg, request.endpoint, request.mimetype)
        if (request.content_length or 0) > g.body_limit.max_bytes:
            return jsonify(error=g.body_limit.message), 413
        # Nothing has read the body yet: from here on every byte of it is counted.
        request.environ["wsgi.input"] = CappedInput(request.environ["wsgi.input"],
                                                    g.body_limit.max_bytes)
        drop_unusable_range(request.environ)
        refused = auth.identify()          # a request with an API key obeys the key's rate instead
        if refused is not None:
            return refused
        bucket = None if g.api_key else buckets.get(_LIMITED.get(request.endpoint, ""))
        if bucket is None or request.method == "OPTIONS":
            return None
        wait = bucket.take(client_address(cfg.trusted_proxy_count))
        if wait > 0:
            resp = jsonify(error="too many requests from this address; retry after the "
                                 "number of seconds in Retry-After")
            resp.headers["Retry-After"] = str(math.ceil(wait))
            return resp, 429
        return None

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(e: RequestEntityTooLarge):
        """A body that outgrew its limit while it was read (a chunked body)."""
        limit = g.get("body_limit") or body_limit(cfg, None, "")
        return jsonify(error=limit.message), 413

    @app.after_request
    def headers(resp):
        h = resp.headers
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Content-Security-Policy", CSP)
        origin = request.headers.get("Origin", "").rstrip("/")
        if origin and ("*" in origins or origin in origins) and request.path.startswith(("/public/", "/openapi.json")):
            h["Access-Control-Allow-Origin"] = "*" if "*" in origins else origin
            h["Access-Control-Allow-Methods"] = "GET, POST, PUT, OPTIONS"
            h["Access-Control-Allow-Headers"] = ("Authorization, Content-Type, Content-Range, "
                                                 "Idempotency-Key")
            h["Access-Control-Expose-Headers"] = "Retry-After, Range"
            h["Access-Control-Max-Age"] = "600"
            h.add("Vary", "Origin")
        return resp
