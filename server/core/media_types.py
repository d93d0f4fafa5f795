"""The content type of every object the server writes to media storage, by file suffix.

One table: the pipeline labels its uploads from it, the local media endpoint serves files
with it, and the Supabase bucket's `allowed_mime_types` in `supabase/config.toml` must
list exactly `bucket_allowed_types()` (a test compares them and renders a whole video
against a Storage stand-in configured from that file). A type missing from the bucket
fails every render with `storage_rejected`, so add a new output's suffix here first.
"""
from __future__ import annotations

from pathlib import PurePath

# What the pipeline renders per clip.
RENDERED = {
    ".mp4": "video/mp4",                 # the clip
    ".jpg": "image/jpeg",                # its thumbnail
    ".srt": "application/x-subrip",      # subtitles
    ".vtt": "text/vtt",
    ".json": "application/json",         # the clip manifest
}

# Sources (downloaded or uploaded) keep their container's suffix; these are the common ones.
SOURCES = {
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
    ".webm": "video/webm", ".mkv": "video/x-matroska",
    ".m4a": "audio/mp4", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg",
    ".wav": "audio/wav", ".flac": "audio/flac",
}

# Anything else (an uploaded .avi, a source without a suffix) is stored as opaque bytes:
# what the server reads back is the file, whatever its label.
FALLBACK = "application/octet-stream"

BY_SUFFIX = {**SOURCES, **RENDERED}


def content_type(name: str | PurePath) -> str:
    """The content type an object named `name` (a key or a path) is stored and served with."""
    return BY_SUFFIX.get(PurePath(name).suffix.lower(), FALLBACK)


def bucket_allowed_types() -> list[str]:
    """Every type the server writes: the media bucket must allow each of them."""
    return sorted(set(BY_SUFFIX.values()) | {FALLBACK})
