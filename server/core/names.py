"""The names files get when people take them away: `<video>-<nn>-<title>.mp4` for a clip,
`<video>-transcript.srt` for the transcript, `<video>-clips.zip` for everything.

Names keep letters and digits of every script (a Japanese title stays Japanese), turn
everything else into single hyphens, and never carry a path separator, a control
character or a leading dot, so they are safe on every file system a browser saves to."""
from __future__ import annotations

import re
import unicodedata

PART_MAX = 60               # characters kept of a title
_NOT_WORD = re.compile(r"[^\w]+|_+")


def safe_part(text: str | None, fallback: str, limit: int = PART_MAX) -> str:
    """A piece of a file name: letters and digits joined by single hyphens."""
    text = unicodedata.normalize("NFC", text or "")
    cleaned = _NOT_WORD.sub("-", text).strip("-")[:limit].strip("-")
    return cleaned or fallback


def clip_number(index: int) -> str:
    """People count clips from 1: index 0 is clip 01."""
    return f"{index + 1:02d}"


def clip_file(video_title: str | None, index: int, clip_title: str | None, ext: str) -> str:
    return f"{safe_part(video_title, 'video')}-{clip_number(index)}-{safe_part(clip_title, 'clip')}.{ext}"


def transcript_file(video_title: str | None, ext: str) -> str:
    return f"{safe_part(video_title, 'video')}-transcript.{ext}"


def archive_file(video_title: str | None) -> str:
    return f"{safe_part(video_title, 'video')}-clips.zip"
