"""Transcript segments as SRT and WebVTT."""
from __future__ import annotations


def stamp(seconds: float, sep: str) -> str:
    ms = max(0, int(round(seconds * 1000)))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(segments: list[dict], offset_s: float = 0.0) -> str:
    blocks = [f"{i}\n{stamp(s['start'] - offset_s, ',')} --> {stamp(s['end'] - offset_s, ',')}\n"
              f"{s['text'].strip()}\n" for i, s in enumerate(segments, 1)]
    return "\n".join(blocks)


def to_vtt(segments: list[dict], offset_s: float = 0.0) -> str:
    blocks = [f"{stamp(s['start'] - offset_s, '.')} --> {stamp(s['end'] - offset_s, '.')}\n"
              f"{s['text'].strip()}\n" for s in segments]
    return "WEBVTT\n\n" + "\n".join(blocks)
