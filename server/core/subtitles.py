"""The one subtitle writer: SRT and WebVTT from timed cues, for transcripts and clip captions.

A cue is `(start_s, end_s, text)`. WebVTT cue text escapes `&`, `<` and `>` as its
specification requires (a bare `<` would open a tag, and `-->` would end the cue timing);
SRT has no escapes and takes the text as spoken.
"""
from __future__ import annotations

from typing import Iterable

Cue = tuple[float, float, str]


def stamp(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_srt(cues: Iterable[Cue]) -> str:
    return "\n".join(f"{i}\n{stamp(start, ',')} --> {stamp(end, ',')}\n{text.strip()}\n"
                     for i, (start, end, text) in enumerate(cues, 1))


def to_vtt(cues: Iterable[Cue]) -> str:
    return "WEBVTT\n\n" + "\n".join(f"{stamp(start, '.')} --> {stamp(end, '.')}\n{vtt_escape(text.strip())}\n"
                                    for start, end, text in cues)


def segment_cues(segments: list[dict]) -> list[Cue]:
    """A stored transcript's segments as cues."""
    return [(s["start"], s["end"], s["text"]) for s in segments]
