"""What every public response goes through: per-client rate limits, a body-size cap for
non-upload requests, the caller's API key (server/api/auth.py), security headers and CORS.

Rate limits are token buckets in this process's memory, keyed by client address. They
are per process: with N gunicorn workers a client gets up to N times the configured rate.
That is deliberate: a Postgres round trip per status poll would cost more than the polls
it limits, and the limits exist to blunt floods, not to meter usage exactly.
"""
from __future__ import annotations

import math
import threading
import time

from flask import Flask, g, jsonify, request

from server.api import auth
from server.settings import Settings

# Which endpoints draw from which bucket.
_LIMITED = {
    "public.submit_video": "submit",
    "uploads.create_upload": "submit",
    "audio.submit": "submit",
    "public.video_status": "status",
    "public.transcript": "status",
}
_MAX_CLIENTS = 50_000       # buckets kept before idle ones are dropped

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
        if request.content_length and request.content_length > cfg.max_request_bytes \
                and request.mimetype != "multipart/form-data" and request.endpoint != "uploads.put_chunk":
            return jsonify(error=f"the request body is larger than {cfg.max_request_bytes} bytes"), 413
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
