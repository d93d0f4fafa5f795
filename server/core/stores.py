"""What the use-case layer needs from the database, as Protocols.

Each store owns some tables and is the only code that issues their named queries
(`server/db/queries.sql`): `Jobs` the queue, the attempt history, the step caps and the
counters; `Videos` the submissions; `Checkpoints` what the steps stored; `Uploads` the
resumable uploads. `server/db/` implements them on Postgres; `tests/support/fakes.py`
keeps them in memory for the unit tests. Rows travel as dicts keyed by column name."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

from server.core.jobs import Job
from server.core.keys import Limits

Row = dict[str, Any]


class QuotaExceeded(Exception):
    """A charge would take an API key past a daily quota; nothing was charged.
    `what` is "videos" or "minutes"; `left` what remained of the day's `limit` before this
    charge; `this` the charge (minutes; None for a URL, whose length is not known yet)."""

    def __init__(self, what: str, limit: float, left: float, this: float | None,
                 retry_after_s: float):
        self.what, self.limit, self.left, self.this = what, limit, max(left, 0.0), this
        self.retry_after_s = retry_after_s
        if what == "videos":
            text = (f"this API key may submit {limit:g} videos a day (UTC); the quota is used up "
                    "until midnight UTC")
        else:
            text = (f"this API key may submit {limit:.1f} minutes of source video a day (UTC); "
                    f"{self.left:.1f} are left today"
                    + (f" and this one lasts {this:.1f}" if this is not None else ""))
        super().__init__(text)


class IdempotencyConflict(Exception):
    """The idempotency key was used before, with a different request."""


def no_room(limits: Row, used: Row) -> QuotaExceeded | None:
    """Why a key cannot take one more video today, if it cannot: every video of the day's
    quota, or every source minute, is used."""
    if limits["videos_limit"] and used["videos"] >= limits["videos_limit"]:
        return QuotaExceeded("videos", limits["videos_limit"], 0, None, used["day_left_s"])
    if limits["seconds_limit"] and used["seconds"] >= limits["seconds_limit"]:
        return QuotaExceeded("minutes", limits["seconds_limit"] / 60, 0, None, used["day_left_s"])
    return None


@dataclass(frozen=True)
class Charge:
    """What a new submission costs its key: a video, and its source seconds when they are
    known already (uploads); None for URLs, which are charged once downloaded."""
    key_id: int
    limits: Limits
    source_s: float | None


@dataclass(frozen=True)
class Subscription:
    """A video's webhook: where to send which events, and how many attempts each gets."""
    url: str
    events: tuple[str, ...]
    max_attempts: int


class CheckpointWriter(Protocol):
    """Writes a step's checkpoint inside the transaction that advances its job."""
    def save_media(self, *, video_id: int, storage_key: str, bytes: int, sha256: str,
                   duration_s: float, width: int | None, height: int | None) -> None: ...
    def save_transcript(self, *, video_id: int, engine: str, model: str, language: str,
                        language_probability: float, duration_s: float, segments: list,
                        transcribe_seconds: float, languages: list | None = None,
                        speech_s: float | None = None, coverage: float | None = None,
                        audio_track: dict | None = None) -> None: ...
    def save_analysis(self, *, video_id: int, analyzer: str, content_type: str, confidence: float,
                      rationale: str, topics: list, raw_output: dict, tokens_used: int,
                      cost_usd: float) -> None: ...
    def save_clip_search(self, *, video_id: int, analyzer: str, raw_output: dict,
                         tokens_used: int, cost_usd: float, notice: str | None = None) -> None:
        """`notice`: why there are fewer clips than asked for, or none, in words."""
        ...
    def save_clip(self, *, video_id: int, clip_index: int, start_s: float, end_s: float,
                  title: str, reason: str, hook: str, score: float) -> None: ...
    def update_video_meta(self, *, video_id: int, title: str | None = None,
                          duration_s: float | None = None, language: str | None = None,
                          content_type: str | None = None,
                          content_confidence: float | None = None) -> None: ...
    def save_audio_output(self, *, job_id: int, storage_key: str, duration_s: float,
                          bytes: int) -> None: ...
    def save_clip_version(self, *, video_id: int, clip_index: int, start_s: float, end_s: float,
                          video_key: str, thumbnail_key: str | None, outputs: dict) -> None:
        """A clip rendered again replaces the clip: its bounds, files and outputs."""
        ...
    def reuse(self, step: str, video_id: int) -> bool:
        """Copies an earlier submission's checkpoint of `step` for the same source."""
        ...
    def charge_source(self, *, key_id: int, video_id: int, defaults: Limits) -> None:
        """Charges the stored media's duration to the key's daily source minutes (once per
        video); raises QuotaExceeded, rolling the step back, when they would run out."""
        ...


# A step's result: called with the writer inside the advancing transaction.
Save = Callable[[CheckpointWriter], None]


class Checkpoints(Protocol):
    """What the steps stored, for later steps and for clients."""
    def media(self, video_id: int) -> Row | None: ...
    def transcript(self, video_id: int) -> Row | None: ...
    def analysis(self, video_id: int) -> Row | None: ...
    def clips(self, video_id: int) -> list[Row]: ...
    def clips_of_videos(self, video_ids: list[int]) -> dict[int, list[Row]]: ...
    def save_rendered_clip(self, *, video_id: int, clip_index: int, video_key: str,
                           thumbnail_key: str | None, outputs: dict, owner: str) -> bool:
        """Fenced by the lease: False when `owner` no longer holds the job."""
        ...


class Videos(Protocol):
    def create(self, *, token: str, source_kind: str, source_url: str | None,
               upload_key: str | None, fingerprint: str, idempotency_key: str | None,
               title: str | None, options: dict, priority: int, max_attempts: int,
               request_fingerprint: str = "", charge: Charge | None = None,
               webhook: Subscription | None = None) -> str:
        """A submission: the video, its charge to its key, its webhook and its job in one
        transaction. Returns its token, or the earlier submission's for an idempotency key
        used before (in the same key's scope) with the same request fingerprint; raises
        IdempotencyConflict for another request, QuotaExceeded past a quota."""
        ...
    def status(self, token: str) -> Row | None: ...
    def statuses(self, tokens: list[str]) -> list[Row]: ...
    def page_of_key(self, key_id: int, *, before_id: int | None, statuses: list[str] | None,
                    limit: int) -> list[Row]:
        """A key's videos (id and token), newest first, with ids below `before_id`."""
        ...
    def briefs(self, tokens: list[str]) -> list[Row]:
        """The status of several videos in one round trip (unknown tokens are left out)."""
        ...
    def transcript(self, token: str) -> Row | None: ...
    def job_id(self, token: str) -> int | None: ...


class Jobs(Protocol):
    def claim(self, steps: tuple[str, ...], limit: int, lease_s: float,
              step_lease_s: dict[str, float], job_id: int | None = None,
              coalesce_steps: tuple[str, ...] = ()) -> list[Job]:
        """Due jobs under fresh leases. At `coalesce_steps`, a job whose source (same
        fingerprint) another job is running at the same step under a live lease is passed
        over, and of jobs of one source only one is claimed at a time. Forced submissions
        take no part: they neither wait nor are waited for."""
        ...
    def defer_to_runner(self, job: Job, delay_s: float) -> bool:
        """Serialised per source and step: when another job of the same source is running
        this step under a live lease, hands this claim back (the attempt does not count;
        due again after `delay_s`) and returns True. Forced submissions take no part."""
        ...
    def start_attempt(self, job: Job, worker_id: str) -> Row | None:
        """Records the attempt; returns the job's video (None for kinds without one)."""
        ...
    def heartbeat(self, job: Job, progress: float) -> bool: ...
    def status_of(self, job_id: int) -> str | None: ...
    def advance(self, job: Job, next_step: str, save: Save, *, outcome: str = "succeeded",
                details: str | None = None) -> bool:
        """Fenced: writes the checkpoint, advances and closes the attempt in one
        transaction; False (and nothing written) when the lease is gone. An exception
        from `save` rolls everything back."""
        ...
    def retry_later(self, job: Job, delay_s: float, cause: str, details: str) -> bool: ...
    def fail(self, job: Job, cause: str, details: str) -> bool: ...
    def release(self, job: Job) -> bool: ...
    def finish_attempt(self, job: Job, outcome: str, cause: str | None, details: str | None) -> None: ...
    def cancel(self, token: str) -> bool: ...
    def attempts_of_video(self, video_id: int) -> list[Row]: ...
    def attempts_of_videos(self, video_ids: list[int]) -> dict[int, list[Row]]: ...
    def prune_history(self, days: float) -> int: ...
    def set_step_limit(self, step: str, max_running: int) -> None: ...
    def clear_step_limit(self, step: str) -> None: ...
    def enqueue_audio(self, token: str, payload: dict, max_attempts: int) -> None: ...
    def audio_job(self, token: str) -> Row | None: ...
    def enqueue_clip_render(self, *, video_id: int, token: str, payload: dict, priority: int,
                            max_attempts: int) -> bool:
        """False (nothing queued) while another render of the same clip waits or runs."""
        ...
    def clip_renders_of_videos(self, video_ids: list[int]) -> dict[int, list[Row]]:
        """Each video's re-render jobs, oldest first."""
        ...


class Uploads(Protocol):
    def create(self, upload_id: str, filename: str, size: int, api_key_id: int | None = None) -> None: ...
    def get(self, upload_id: str) -> Row | None: ...
    def record_chunk(self, upload_id: str, start: int, end: int) -> None: ...
    def ranges(self, upload_id: str) -> list[tuple[int, int]]: ...
    def start_completing(self, upload_id: str) -> bool: ...
    def reopen(self, upload_id: str) -> None: ...
    def finish(self, upload_id: str, token: str) -> None: ...


class Keys(Protocol):
    """API keys (`api_keys`) and their quotas' ledger (`api_key_charges`)."""
    def create(self, *, name: str, prefix: str, key_hash: str, webhook_secret: str,
               rate_per_min: float | None, videos_per_day: int | None,
               source_minutes_per_day: float | None) -> Row | None:
        """None when a live key already has this name."""
        ...
    def all(self) -> list[Row]: ...
    def revoke(self, name: str) -> bool: ...
    def rotate(self, name: str, *, prefix: str, key_hash: str, grace_s: float) -> bool: ...
    def set_webhook_secret(self, name: str, secret: str) -> bool: ...
    def take(self, key_hash: str, default_rate: float) -> Row | None:
        """The live key with this hash, once one request is taken from its rate; None when
        there is no such key, it is revoked, or its rate is spent (see `refusal`)."""
        ...
    def refusal(self, key_hash: str, default_rate: float) -> Row | None:
        """Why `take` let nothing through: {revoked, wait_s}, or None for no such key."""
        ...
    def room_today(self, key_id: int, defaults: Limits) -> None:
        """Raises QuotaExceeded when the key has no video or no source minute left today: a
        look before a long upload (nothing is charged; the submission's charge decides)."""
        ...


class Webhooks(Protocol):
    """Deliveries of webhook events (`webhook_deliveries`) and their attempts
    (`webhook_attempts`). Deliveries are recorded, with their jobs, by a trigger in the
    transaction that ends a video or its step."""
    def delivery(self, delivery_id: int) -> Row | None:
        """The event, its video's token, the subscription's URL and the signing secret
        of the video's key (None for submissions without a key)."""
        ...
    def keep_body(self, delivery_id: int, body: str) -> str:
        """Stores the body built for the first attempt; returns the stored one (another
        attempt may have stored it first), which every attempt then sends."""
        ...
    def start_attempt(self, delivery_id: int, attempt: int) -> int: ...
    def finish_attempt(self, attempt_id: int, status_code: int | None, error: str | None) -> None: ...
    def of_videos(self, video_ids: list[int]) -> dict[int, list[Row]]:
        """Each video's deliveries, oldest first, each with its job's state and its
        `attempts`."""
        ...


class Counters(Protocol):
    """Cluster-wide figures for /metrics, read from the database at each scrape."""
    def job_counts(self) -> list[Row]: ...
    def outcome_totals(self) -> list[Row]: ...
    def duration_totals(self) -> list[Row]: ...
