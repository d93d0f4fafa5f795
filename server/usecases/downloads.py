"""Taking the work away: one clip file under a name people can file
(`<video>-<nn>-<title>.mp4`), and everything at once as a zip that is streamed as it is
written, never built in memory or on disk.

Files come from storage (local files, or Supabase Storage through its local cache). Every
file of an archive is opened before the first byte is sent, so a missing file is a clean
404 rather than a zip cut short, and a cache eviction meanwhile cannot pull a file away
(an open file stays readable)."""
from __future__ import annotations

import io
import json
import os
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from server.core import names
from server.core.subtitles import segment_cues, to_srt, to_vtt
from server.core.stores import Row
from server.services import Services
from server.usecases import Refused

# A clip's files: what the API calls them -> the clip row's key for them.
CLIP_FILES = {"mp4": "video_key", "jpg": "thumbnail_key", "srt": "srt", "vtt": "vtt", "json": "manifest"}
BLOCK_BYTES = 1 << 20
# Already compressed (video, JPEG): stored as they are; text is deflated.
_STORED = ("mp4", "jpg")


def _video(s: Services, token: str) -> Row:
    video = s.videos.status(token)
    if video is None:
        raise Refused("not_found", "no video with this token")
    return video


def _key(clip: Row, file: str) -> str | None:
    column = CLIP_FILES[file]
    return clip.get(column) if column.endswith("_key") else (clip.get("outputs") or {}).get(column)


def clip_file(s: Services, token: str, index: int, file: str) -> tuple[Path, str]:
    """One file of a rendered clip: its local path and the name to save it under."""
    video = _video(s, token)
    clip = next((c for c in s.checkpoints.clips(video["video_id"]) if c["clip_index"] == index), None)
    if clip is None:
        raise Refused("not_found", f"the video has no clip with index {index}")
    key = _key(clip, file)
    if not key:
        raise Refused("not_found", f"clip {index} has no {file} file yet")
    try:
        path = s.storage.local_path(key)
    except FileNotFoundError:
        raise Refused("not_found", f"clip {index}'s {file} file is missing from storage") from None
    return path, names.clip_file(video["title"], index, clip["title"], file)


@dataclass
class Entry:
    name: str
    source: IO[bytes]           # an open file, or the bytes of a generated one
    size: int


@dataclass
class Archive:
    name: str
    entries: list[Entry]

    def close(self) -> None:
        for e in self.entries:
            e.source.close()


def archive(s: Services, token: str) -> Archive:
    """Every rendered clip (video, thumbnail, captions, manifest) and the transcript (SRT,
    WebVTT, JSON), each opened, ready to stream."""
    video = _video(s, token)
    title = video["title"]
    entries: list[Entry] = []
    try:
        for clip in s.checkpoints.clips(video["video_id"]):
            for file in CLIP_FILES:
                key = _key(clip, file)
                if not key:
                    continue
                try:
                    f = open(s.storage.local_path(key), "rb")
                except FileNotFoundError:
                    raise Refused("not_found", f"clip {clip['clip_index']}'s {file} file is missing "
                                               "from storage") from None
                entries.append(Entry(names.clip_file(title, clip["clip_index"], clip["title"], file),
                                     f, _size(f)))
        transcript = s.videos.transcript(token)
        if transcript is not None:
            for ext, text in _transcript_files(transcript).items():
                data = text.encode("utf-8")
                entries.append(Entry(names.transcript_file(title, ext), io.BytesIO(data), len(data)))
    except BaseException:
        Archive("", entries).close()
        raise
    if not entries:
        raise Refused("conflict", "nothing to download yet: the video has no transcript and no "
                                  "rendered clips")
    return Archive(names.archive_file(title), entries)


def _size(f: IO[bytes]) -> int:
    return os.fstat(f.fileno()).st_size


def _transcript_files(row: Row) -> dict[str, str]:
    cues = segment_cues(row["segments"])
    body = {k: row[k] for k in ("language", "engine", "model", "duration_s", "segments")}
    return {"srt": to_srt(cues), "vtt": to_vtt(cues),
            "json": json.dumps(body, ensure_ascii=False, indent=1, default=str)}


class _Outbox(io.RawIOBase):
    """The zip writer's output: bytes wait here until the stream hands them on. It cannot
    seek, so zipfile writes each entry's sizes and CRC after its data (a data descriptor)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:      # type: ignore[override]
        self.parts.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def stream_zip(arch: Archive, block: int = BLOCK_BYTES) -> Iterator[bytes]:
    """The archive as zip bytes, a block at a time: memory stays at about one block
    whatever the size of the clips. Closes the archive's files when done or abandoned."""
    out = _Outbox()
    try:
        with zipfile.ZipFile(out, "w") as zf:
            for e in arch.entries:
                info = zipfile.ZipInfo(e.name, time.localtime()[:6])
                info.file_size = e.size          # decides whether the entry needs zip64
                info.external_attr = 0o644 << 16
                stored = e.name.rsplit(".", 1)[-1] in _STORED
                info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
                with zf.open(info, "w", force_zip64=e.size > zipfile.ZIP64_LIMIT) as dest:
                    while data := e.source.read(block):
                        dest.write(data)
                        if chunk := out.take():
                            yield chunk
                if chunk := out.take():
                    yield chunk
        yield out.take()                         # the central directory
    finally:
        arch.close()
