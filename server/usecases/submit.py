"""Submitting a video: the one path every source takes (a URL from the API or the CLI, a
file uploaded in one request, a completed chunked upload, a file named on the CLI), so
every source gets the same checks before anything is queued."""
from __future__ import annotations

import hashlib
import json
import math
import re
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from server.core import webhooks
from server.core.failures import StepError
from server.core.media_types import content_type
from server.core.model import CaptionStyle, RenderOptions
from server.core.stores import Charge, IdempotencyConflict, QuotaExceeded, Subscription
from server.core.urls import UnsafeUrl, check_url
from server.services import Services
from server.usecases import Refused

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")
# Stored sources get a content type from their name, never from what a client declared.


def new_token() -> str:
    return secrets.token_urlsafe(24)        # 192 random bits, independent of any id


def printable(text: str) -> str:
    """User-supplied names without control characters (Postgres refuses NUL in text)."""
    return _UNPRINTABLE.sub("", text)


@dataclass
class SubmitOptions:
    """What a submitter may choose (the API models check each value; None: the default)."""
    priority: int = 0
    force: bool = False             # redo download and transcript even if a checkpoint exists
    format: str | None = None
    captions: bool | None = None
    enhance: bool | None = None
    caption_style: dict | None = None   # {preset, size, highlight, position}, each optional
    min_clip_s: float | None = None
    max_clip_s: float | None = None
    max_clips: int | None = None
    topic: str | None = None        # a subject the clips should be about
    allow_short: bool = False       # speech shorter than a clip gives one clip of all of it
    language: str | None = None     # the spoken language, when the submitter knows it
    idempotency_key: str | None = None
    webhook_url: str | None = None
    webhook_events: tuple[str, ...] | None = None     # None: webhooks.DEFAULT_EVENTS

    def stored(self, s: Services) -> dict:
        """The options saved with the video: render options with the defaults filled in,
        and the clip controls and language the submitter chose (the find_clips and
        transcribe steps read them). Refuses clip controls outside this server's bounds."""
        c = s.cfg
        self._check_clip_controls(s)
        style = dict(self.caption_style or {})
        render = RenderOptions(self.format or c.clip_format,
                               c.clip_captions if self.captions is None else self.captions,
                               c.clip_enhance if self.enhance is None else self.enhance,
                               CaptionStyle.choose(**style))
        chosen = {"min_clip_s": self.min_clip_s, "max_clip_s": self.max_clip_s,
                  "max_clips": self.max_clips, "topic": (self.topic or "").strip() or None,
                  "allow_short": self.allow_short or None, "language": self.language}
        return {**render.to_dict(),
                "caption_style": {"preset": style.get("preset") or "classic",
                                  **asdict(render.caption_style)},
                **{k: v for k, v in chosen.items() if v is not None},
                **({"force": True} if self.force else {})}

    def _check_clip_controls(self, s: Services) -> None:
        """Clip lengths within CLIP_MIN_SECONDS..CLIP_MAX_SECONDS, the shortest no longer
        than the longest (the settings fill what is unset), and at most CLIP_MAX_COUNT clips."""
        c = s.cfg
        for name in ("min_clip_s", "max_clip_s"):
            value = getattr(self, name)
            if value is not None and not c.clip_min_s <= value <= c.clip_max_s:
                raise Refused("invalid", f"{name} must be between {c.clip_min_s:g} and "
                                         f"{c.clip_max_s:g} s on this server (CLIP_MIN_SECONDS, "
                                         f"CLIP_MAX_SECONDS); got {value:g}", field=name)
        low = c.clip_min_s if self.min_clip_s is None else self.min_clip_s
        high = c.clip_max_s if self.max_clip_s is None else self.max_clip_s
        if low > high:
            raise Refused("invalid", f"min_clip_s ({low:g} s) is longer than max_clip_s ({high:g} s)",
                          field="min_clip_s")
        if self.max_clips is not None and not 1 <= self.max_clips <= c.clip_max_count:
            raise Refused("invalid", f"max_clips must be between 1 and {c.clip_max_count} on this "
                                     f"server (CLIP_MAX_COUNT); got {self.max_clips}",
                          field="max_clips")

    def request_fingerprint(self, source: str) -> str:
        """What an idempotency key is bound to: the source and every choice as sent (not
        the defaults filled in, which an operator may change between a request and its
        retry)."""
        chosen = {k: v for k, v in asdict(self).items() if k != "idempotency_key"}
        return hashlib.sha256(json.dumps({"source": source, **chosen},
                                         sort_keys=True).encode()).hexdigest()


def _subscription(s: Services, opts: SubmitOptions, key_id: int | None) -> Subscription | None:
    """The webhook a submission asks for, once its URL passes the same checks as a video's."""
    if opts.webhook_url is None:
        if opts.webhook_events is not None:
            raise Refused("invalid", "webhook_events needs a webhook_url", field="webhook_events")
        return None
    if key_id is None and not s.cfg.webhook_secret:
        raise Refused("invalid", "webhook_url needs an API key (its webhooks are signed with the "
                                 "key's secret): this server has no WEBHOOK_SECRET for submissions "
                                 "without one", field="webhook_url")
    try:
        check_url(opts.webhook_url, allow_private=s.cfg.allow_private_urls, name="webhook_url")
    except UnsafeUrl as e:
        text = str(e)
        raise Refused("invalid", text if text.startswith("webhook_url") else f"webhook_url: {text}",
                      field="webhook_url") from None
    events = tuple(dict.fromkeys(opts.webhook_events or webhooks.DEFAULT_EVENTS))
    return Subscription(opts.webhook_url.strip(), events, s.cfg.webhook_max_attempts)


def _create(s: Services, opts: SubmitOptions, key_id: int | None, *, token: str,
            fingerprint: str, source_s: float | None, source_url: str | None = None,
            upload_key: str | None = None, title: str | None = None) -> str:
    """The video row, its charge to the API key, its webhook and its job, in one
    transaction. `source_s`: the source's length when known (uploads)."""
    webhook = _subscription(s, opts, key_id)
    charge = Charge(key_id, s.key_defaults, source_s) if key_id is not None else None
    try:
        return s.videos.create(token=token, source_kind="url" if source_url else "upload",
                               source_url=source_url, upload_key=upload_key,
                               fingerprint=fingerprint, idempotency_key=opts.idempotency_key,
                               title=title, options=opts.stored(s), priority=opts.priority,
                               max_attempts=s.cfg.max_attempts,
                               request_fingerprint=opts.request_fingerprint(fingerprint),
                               charge=charge, webhook=webhook)
    except IdempotencyConflict:
        raise Refused("mismatch", "this Idempotency-Key was already used with a different "
                                  "request; send a new key for a new request") from None
    except QuotaExceeded as e:
        raise Refused("rate_limited", str(e), retry_after_s=math.ceil(e.retry_after_s)) from None


def submit_url(s: Services, url: str, opts: SubmitOptions, key_id: int | None = None) -> str:
    """Checks the URL (scheme, host, public addresses) and queues it, charged to the API
    key `key_id`. Returns the token."""
    try:
        fingerprint = check_url(url, allow_private=s.cfg.allow_private_urls)
    except UnsafeUrl as e:
        raise Refused("invalid", str(e), field="video_url") from None
    return _create(s, opts, key_id, token=new_token(), fingerprint=fingerprint, source_s=None,
                   source_url=url.strip())


def submit_file(s: Services, path: Path, *, filename: str, opts: SubmitOptions,
                sha256: str | None = None, key_id: int | None = None) -> str:
    """A complete local file: refuses what is not a usable video within the limits, else
    moves it into storage and queues it, charged to the API key `key_id`. Returns the token."""
    try:
        info = s.prober.probe(path)          # refuse what is not media before queueing it
        s.prober.check_complete(path, info.duration_s)
    except StepError as e:
        raise Refused("unsupported", f"the upload is not a usable video: {e}") from None
    if info.duration_s > s.cfg.max_duration_s:
        raise Refused("too_large", f"the video lasts {info.duration_s:.0f} s; "
                                   f"the limit is {s.cfg.max_duration_s:.0f} s")
    digest = sha256 or s.prober.sha256_of(path)
    token = new_token()
    suffix = upload_suffix(filename)
    storage_key = f"uploads/{token}/source{suffix}"
    _subscription(s, opts, key_id)              # refuse a bad webhook before storing anything
    opts.stored(s)                              # and clip controls out of bounds or contradicting
    s.storage.put(storage_key, path, content_type(storage_key))
    try:
        created = _create(s, opts, key_id, token=token, fingerprint="sha256:" + digest,
                          source_s=info.duration_s, upload_key=storage_key,
                          title=printable(Path(filename).stem)[:200] or None)
    except Refused:
        s.storage.delete_prefix(f"uploads/{token}/")
        raise
    if created != token:                        # an idempotent repeat: the first one's file serves
        s.storage.delete_prefix(f"uploads/{token}/")
    return created


def submit_local_file(s: Services, source: Path, opts: SubmitOptions) -> str:
    """The CLI's file: staged as a copy (the user's file stays), then like an upload."""
    if not source.is_file():
        raise Refused("invalid", f"{source.name} is neither an http(s) URL nor a file")
    with staging_dir(s) as folder:
        staged = folder / f"source{upload_suffix(source.name)}"
        shutil.copyfile(source, staged)
        return submit_file(s, staged, filename=source.name, opts=opts)


def upload_suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()[:8]
    return suffix if suffix.isascii() and suffix[1:].isalnum() else ".bin"


class staging_dir:
    """A private folder under DATA_DIR/uploads for a file on its way into storage,
    removed afterwards whatever happened."""

    def __init__(self, s: Services):
        self.path = s.cfg.data_dir / "uploads" / new_token()

    def __enter__(self) -> Path:
        self.path.mkdir(parents=True)
        return self.path

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def receive(stream: IO[bytes], dest: Path, limit: int, what: str = "file") -> tuple[str, int]:
    """Copies a request body to `dest` without holding it in memory; refuses an empty
    one or one over `limit` bytes. Returns its SHA-256 and size."""
    digest, size = hashlib.sha256(), 0
    with open(dest, "wb") as out:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            size += len(chunk)
            if size > limit:
                raise Refused("too_large", f"the {what} is larger than {limit} bytes")
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise Refused("invalid", f"the uploaded {what} is empty")
    return digest.hexdigest(), size
