"""Reading a video's state, its transcript and its media, listing an API key's videos,
and cancelling a video."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from pathlib import Path

from server.core.stores import Row
from server.services import Services
from server.usecases import Refused


@dataclass
class VideoState:
    """Everything the status of one video shows."""
    job: Row               # the video and its queue row (status_by_token)
    attempts: list[Row]    # step_runs, oldest first
    clips: list[Row]
    webhooks: list[Row] = field(default_factory=list)   # its webhook events' deliveries
    renders: list[Row] = field(default_factory=list)    # re-renders of its clips, oldest first


def status(s: Services, token: str) -> VideoState:
    row = s.videos.status(token)
    if row is None:
        raise Refused("not_found", "no video with this token")
    return _states(s, [row])[0]


def _states(s: Services, rows: list[Row]) -> list[VideoState]:
    """The states of several videos, in a few queries whatever their number."""
    ids = [r["video_id"] for r in rows]
    attempts, clips = s.jobs.attempts_of_videos(ids), s.checkpoints.clips_of_videos(ids)
    hooks, renders = s.webhooks.of_videos(ids), s.jobs.clip_renders_of_videos(ids)
    return [VideoState(r, attempts[r["video_id"]], clips[r["video_id"]], hooks[r["video_id"]],
                       renders[r["video_id"]]) for r in rows]


@dataclass
class Page:
    videos: list[VideoState]
    next_cursor: str | None         # None on the last page


def _cursor(video_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{video_id}".encode()).decode().rstrip("=")


def _before_id(cursor: str) -> int:
    try:
        version, _, value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        if version == "v1" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise Refused("invalid", "cursor is not one this server handed out (use next_cursor as it is)",
                  field="cursor")


def of_key(s: Services, key_id: int, *, cursor: str | None, limit: int,
           statuses: list[str] | None) -> Page:
    """One page of the key's videos, newest first. The cursor is the last id seen, so
    videos submitted while a client pages through land before its first page and never
    shift a later one: no video that existed when the listing began is skipped or repeated."""
    rows = s.videos.page_of_key(key_id, before_id=_before_id(cursor) if cursor else None,
                                statuses=statuses, limit=limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    by_token = {r["token"]: r for r in s.videos.statuses([r["token"] for r in rows])}
    return Page(_states(s, [by_token[r["token"]] for r in rows]),
                _cursor(rows[-1]["id"]) if more else None)


# A page polls its whole history at once; more tokens than this is not a person's history.
BRIEFS_MAX = 50


def briefs(s: Services, tokens: list[str]) -> tuple[list[Row], list[str]]:
    """Several videos' states in one round trip, in the order asked, and the tokens that
    name no video."""
    wanted = list(dict.fromkeys(tokens))
    if len(wanted) > BRIEFS_MAX:
        raise Refused("invalid", f"ask for at most {BRIEFS_MAX} tokens at once")
    found = {r["token"]: r for r in s.videos.briefs(wanted)}
    return [found[t] for t in wanted if t in found], [t for t in wanted if t not in found]


def transcript(s: Services, token: str) -> Row:
    """The transcript checkpoint, there as soon as the transcribe step has run."""
    row = s.videos.transcript(token)
    if row is None:
        raise Refused("not_found", "no transcript for this token (unknown token, or not transcribed yet)")
    return row


def cancel(s: Services, token: str) -> None:
    if s.jobs.cancel(token):
        return
    row = s.videos.status(token)
    if row is None:
        raise Refused("not_found", "no video with this token")
    if row["status"] == "cancelled":
        raise Refused("conflict", "the job is already cancelled")
    raise Refused("conflict", f"the job has already {row['status']} and cannot be cancelled")


def media_file(s: Services, key: str) -> Path:
    """A stored file a client may fetch by key: local storage only (Supabase Storage hands
    out signed URLs instead). Keys under videos/ contain the video's unguessable token, so
    the URL itself is the capability."""
    if s.cfg.storage_backend != "local" or not key.startswith("videos/") or ".." in key:
        raise Refused("not_found", "not found")
    try:
        path = s.storage.local_path(key)
    except (FileNotFoundError, ValueError):
        raise Refused("not_found", "not found") from None
    if not path.is_file():
        raise Refused("not_found", "not found")
    return path


def source_media(s: Services, token: str) -> Path | str:
    """The stored source of a video, to preview: a local file, or where remote storage
    serves it (a signed URL). Found through the video's own token, never through a storage
    key, because a source reused from an earlier submission sits under that submission's
    token, which must not leak."""
    row = s.videos.status(token)
    if row is None:
        raise Refused("not_found", "no video with this token")
    if not row.get("media_key"):
        raise Refused("not_found", "the video has not been downloaded yet")
    if s.cfg.storage_backend != "local":
        return s.storage.url(row["media_key"])
    try:
        return s.storage.local_path(row["media_key"])
    except FileNotFoundError:
        raise Refused("not_found", "the source is missing from storage") from None
