"""The one step of a `webhook` job: sign and POST one event to its video's webhook_url.

The event and its job were recorded by the database in the transaction that ended the
video or its step. The body is built once, at the first attempt, and every retry sends
the same bytes under the same `webhook-id`, with a fresh timestamp and signature. Each
attempt is logged with the receiver's status code before the step ends, so the log shows
what reached the wire even when the step then retries; an attempt whose worker died
stays in the log without an end. A 2xx answer completes the job; any other answer, or no
answer, is retried with backoff (WEBHOOK_MAX_ATTEMPTS, WEBHOOK_BACKOFF_*)."""
from __future__ import annotations

import time
from typing import Any

from server.core import webhooks
from server.core.failures import StepError, classify, fatal, retryable
from server.core.steps import Step
from server.core.stores import Row, Save
from server.pipeline.context import StepContext, StepImpl
from server.services import Services


def deliver_webhook(ctx: StepContext) -> Save:
    s = ctx.services
    delivery = s.webhooks.delivery(int(ctx.job.payload["delivery_id"]))
    if delivery is None:
        raise fatal("not_found", "the event's video no longer exists")
    secret = delivery["key_secret"] or s.cfg.webhook_secret
    if not secret:
        raise fatal("invalid_url", "no secret to sign with: the video was submitted without an "
                                   "API key and WEBHOOK_SECRET is no longer set")
    text = delivery["body"] or s.webhooks.keep_body(delivery["id"], event_body(s, delivery))
    headers = webhooks.signed_headers(secret, delivery["msg_id"], int(time.time()), text)
    attempt = s.webhooks.start_attempt(delivery["id"], ctx.job.attempts)
    try:
        code = s.webhook_sender.send(delivery["url"], text.encode(), headers)
    except Exception as e:
        s.webhooks.finish_attempt(attempt, None, str(e) if isinstance(e, StepError)
                                  else classify(e).details.splitlines()[0])
        raise
    ok = 200 <= code < 300
    s.webhooks.finish_attempt(attempt, code, None if ok else f"the receiver answered {code}")
    if not ok:
        raise retryable("webhook_rejected", f"the webhook receiver answered {code}")
    return lambda w: None       # delivered: the job's completion is the record


def event_body(s: Services, delivery: Row) -> str:
    """What a receiver gets: the event, and enough of the video to act on it. Clip URLs are
    left to the status (GET status_url): signed storage URLs expire, and a retry may come
    hours later."""
    token = delivery["token"]
    data: dict[str, Any] = {"token": token, "status_url": status_url(s, token)}
    if delivery["event"] == webhooks.STEP_COMPLETED:
        data["step"] = delivery["step"]
    else:
        row = s.videos.status(token) or {}
        data.update({k: row.get(k) for k in ("status", "failure_cause", "failure_details",
                                             "title", "duration_s")})
        video_id = row.get("video_id")
        data["clip_count"] = len(s.checkpoints.clips(video_id)) if video_id else 0
    return webhooks.body(delivery["event"], delivery["occurred_at"].isoformat(), data)


def status_url(s: Services, token: str) -> str:
    """Absolute with PUBLIC_BASE_URL set; a path otherwise (a worker knows no host name)."""
    return f"{s.cfg.public_base_url.rstrip('/')}/public/video/status?token={token}"


STEPS: dict[Step, StepImpl] = {Step.DELIVER_WEBHOOK: deliver_webhook}
