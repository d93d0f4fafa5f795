"""Reading a video's state, its transcript and its media, and cancelling it."""
from __future__ import annotations

from dataclasses import dataclass
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


def status(s: Services, token: str) -> VideoState:
    row = s.videos.status(token)
    if row is None:
        raise Refused("not_found", "no video with this token")
    return VideoState(row, s.jobs.attempts_of_video(row["video_id"]),
                      s.checkpoints.clips(row["video_id"]))


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
