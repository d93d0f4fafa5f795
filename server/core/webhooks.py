"""Webhooks as the Standard Webhooks specification has them: the events a video sends, the
body of each, and the three headers that sign it.

    webhook-id:        msg_...  (the same on every retry of one event: receivers deduplicate)
    webhook-timestamp: seconds since the epoch, of this attempt
    webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">

The HMAC key is the secret's base64 part (after `whsec_`): the API key's own secret for
videos submitted with a key, WEBHOOK_SECRET for the others.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

COMPLETED, FAILED, CANCELLED, STEP_COMPLETED = (
    "video.completed", "video.failed", "video.cancelled", "video.step_completed")
EVENTS = (COMPLETED, FAILED, CANCELLED, STEP_COMPLETED)
# What a subscription gets when it names no events: how the video ended.
DEFAULT_EVENTS = (COMPLETED, FAILED, CANCELLED)


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix("whsec_"))


def signature(secret: str, msg_id: str, timestamp: int, body: str) -> str:
    digest = hmac.new(_key(secret), f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {"content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(secret, msg_id, timestamp, body)}


def body(event: str, occurred_at: str, data: dict[str, Any]) -> str:
    """The JSON body: `type`, `timestamp` (when the event happened, ISO 8601) and `data`.
    Compact and with sorted keys, so the same event always serialises the same way."""
    return json.dumps({"type": event, "timestamp": occurred_at, "data": data},
                      separators=(",", ":"), sort_keys=True)
