"""Word-timed captions: cues for .srt/.vtt, and the burned-in overlay with the current
word highlighted, drawn with Pillow in a font that ships in the matplotlib package."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from server.core.model import Transcript
from server.core import subtitles

MAX_WORDS_PER_CUE = 3
MAX_CUE_GAP_S = 0.6          # a longer pause starts a new cue
HOLD_S = 0.3                 # a cue stays up this long after its last word, unless the next starts
WHITE, HIGHLIGHT, OUTLINE = (255, 255, 255, 255), (255, 214, 0, 255), (0, 0, 0, 255)


@dataclass
class Word:
    start: float             # seconds from the start of the clip (may be slightly negative)
    end: float
    text: str


@dataclass
class Cue:
    start: float
    end: float
    words: list[Word]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def clip_words(transcript: Transcript, start_s: float, end_s: float) -> list[Word]:
    """The transcript's words that fall inside the clip, timed from the clip's start."""
    words = []
    for seg in transcript.segments:
        for w in seg.words:
            mid = (w.start + w.end) / 2
            if start_s <= mid < end_s and w.word.strip():
                # a word may begin a little before the clip's first frame: its time then
                # is negative, so the source time stays exact (to_srt/to_vtt clamp at 0)
                words.append(Word(w.start - start_s, w.end - start_s, w.word.strip()))
    return words


def cues(words: list[Word]) -> list[Cue]:
    groups: list[list[Word]] = []
    for w in words:
        if groups and len(groups[-1]) < MAX_WORDS_PER_CUE and w.start - groups[-1][-1].end <= MAX_CUE_GAP_S:
            groups[-1].append(w)
        else:
            groups.append([w])
    out = []
    for i, g in enumerate(groups):
        end = g[-1].end + HOLD_S
        if i + 1 < len(groups):
            end = min(end, groups[i + 1][0].start)
        out.append(Cue(g[0].start, max(end, g[-1].end), g))
    return out


def as_subtitles(cs: list[Cue]) -> list[subtitles.Cue]:
    """The cues for the subtitle writer (server.core.subtitles)."""
    return [(c.start, c.end, c.text) for c in cs]


def active(cs: list[Cue], t: float) -> tuple[int, int] | None:
    """(cue index, word index) shown at clip time t. Between words of a cue the last word
    spoken stays highlighted."""
    for ci, c in enumerate(cs):
        if c.start <= t < c.end:
            wi = 0
            for i, w in enumerate(c.words):
                if w.start <= t:
                    wi = i
            return ci, wi
    return None


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts/ttf/DejaVuSans-Bold.ttf"), size)


class CaptionPainter:
    """Blends the caption of clip time t into RGB frames of a fixed size."""

    def __init__(self, cs: list[Cue], width: int, height: int):
        self.cues, self.width, self.height = cs, width, height
        self.size = max(16, round(width * 0.072))
        self.margin = round(width * 0.08)               # safe margin on both sides
        # Vertical video: above the bottom third where platforms put their buttons and text.
        self.centre_y = round(height * (0.68 if height > width else 0.8))
        self._cache: dict[tuple[int, int], tuple[int, np.ndarray, np.ndarray]] = {}

    def _lines(self, words: list[Word], font) -> list[list[int]]:
        lines: list[list[int]] = [[]]
        space = font.getlength(" ")
        width = 0.0
        for i, w in enumerate(words):
            wl = font.getlength(w.text.upper())
            if lines[-1] and width + space + wl > self.width - 2 * self.margin:
                lines.append([])
                width = 0.0
            width += (space if lines[-1] else 0) + wl
            lines[-1].append(i)
        return lines

    def _band(self, ci: int, wi: int) -> tuple[int, np.ndarray, np.ndarray]:
        words, font = self.cues[ci].words, _font(self.size)
        lines = self._lines(words, font)
        line_h = round(self.size * 1.25)
        stroke = max(2, self.size // 12)
        band_h = line_h * len(lines) + 2 * stroke
        img = Image.new("RGBA", (self.width, band_h), (0, 0, 0, 0))
        draw = ImageDraw.Draw(img)
        space = font.getlength(" ")
        for li, idxs in enumerate(lines):
            texts = [words[i].text.upper() for i in idxs]
            total = sum(font.getlength(t) for t in texts) + space * (len(texts) - 1)
            x = (self.width - total) / 2
            for i, t in zip(idxs, texts):
                draw.text((x, stroke + li * line_h), t, font=font, fill=HIGHLIGHT if i == wi else WHITE,
                          stroke_width=stroke, stroke_fill=OUTLINE)
                x += font.getlength(t) + space
        rgba = np.asarray(img, dtype=np.float32)
        top = min(max(0, self.centre_y - band_h // 2), self.height - band_h)
        return top, rgba[..., :3], rgba[..., 3:] / 255.0

    def paint(self, frame: np.ndarray, t: float) -> np.ndarray:
        state = active(self.cues, t)
        if state is None:
            return frame
        if state not in self._cache:
            self._cache[state] = self._band(*state)
        top, rgb, alpha = self._cache[state]
        region = frame[top:top + rgb.shape[0]].astype(np.float32)
        frame[top:top + rgb.shape[0]] = (region * (1 - alpha) + rgb * alpha).astype(np.uint8)
        return frame
