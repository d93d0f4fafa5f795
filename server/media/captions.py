"""Word-timed captions: cues for .srt/.vtt, and the burned-in captions as an ASS script
that ffmpeg's libass draws, the spoken word highlighted, in DejaVu Sans Bold from the
matplotlib package.

The layout is computed here with Pillow's metrics of that font (line breaks, sizes,
positions), so the script leaves libass no choice to make: every line is its own event,
placed at an exact pixel position."""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import matplotlib
from PIL import ImageFont

from server.core.model import CAPTION_SIZES, CaptionStyle, Transcript
from server.core import subtitles

MAX_WORDS_PER_CUE = 3
# Whisper gives the words of scripts written without spaces one token at a time, often a
# single character (今 + 天); there, this many characters count as one word.
UNSPACED_CHARS_PER_WORD = 2
MAX_CUE_GAP_S = 0.6          # a longer pause starts a new cue
HOLD_S = 0.3                 # a cue stays up this long after its last word, unless the next starts
WHITE, OUTLINE = (255, 255, 255), (0, 0, 0)
HIGHLIGHT = CaptionStyle().highlight_rgb     # the default style's spoken word (classic yellow)
FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONT_FILE = "DejaVuSans-Bold.ttf"
FONT_NAME = "DejaVu Sans"


@dataclass
class Word:
    start: float             # seconds from the start of the clip (may be slightly negative)
    end: float
    text: str


# Scripts written without spaces between words: Thai, Lao, Myanmar, Khmer, CJK punctuation,
# kana, Han (and its extensions and compatibility forms), fullwidth forms. Hangul is not
# among them: Korean puts spaces between words.
_UNSPACED = ((0x0E00, 0x0EFF), (0x1000, 0x109F), (0x1780, 0x17FF), (0x3000, 0x30FF), (0x3400, 0x4DBF),
             (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x20000, 0x3134F))


def _unspaced(ch: str) -> bool:
    return any(a <= ord(ch) <= b for a, b in _UNSPACED)


def gap(before: str, after: str) -> str:
    """What goes between two words: nothing between words of a script written without
    spaces (我们 + 今天 is 我们今天), a space otherwise (使用 + AI is 使用 AI)."""
    return "" if before and after and _unspaced(before[-1]) and _unspaced(after[0]) else " "


def joined(texts: list[str]) -> str:
    return "".join((gap(texts[i - 1], t) if i else "") + t for i, t in enumerate(texts))


@dataclass
class Cue:
    start: float
    end: float
    words: list[Word]

    @property
    def text(self) -> str:
        return joined([w.text for w in self.words])


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


def _weight(w: Word) -> float:
    """How many words `w` counts for in a cue."""
    if w.text and _unspaced(w.text[0]) and _unspaced(w.text[-1]):
        return len(w.text) / UNSPACED_CHARS_PER_WORD
    return 1.0


# what ends a sentence, in the scripts Whisper writes (closing quotes and brackets aside)
_SENTENCE_ENDS = (".", "!", "?", "…", "。", "！", "？", "؟", "।", "።")


def _ends_sentence(w: Word) -> bool:
    return w.text.rstrip("\"'”’»)]」』）").endswith(_SENTENCE_ENDS)


def cues(words: list[Word]) -> list[Cue]:
    """Words grouped into cues of at most MAX_WORDS_PER_CUE words (six characters of
    Chinese, Japanese or Thai); a pause over MAX_CUE_GAP_S, or the end of a sentence,
    starts a new cue, so no cue shows the end of one sentence and the start of the next."""
    groups: list[list[Word]] = []
    for w in words:
        if (groups and not _ends_sentence(groups[-1][-1])
                and sum(map(_weight, groups[-1])) + _weight(w) <= MAX_WORDS_PER_CUE
                and w.start - groups[-1][-1].end <= MAX_CUE_GAP_S):
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


def spans(cs: list[Cue]) -> list[tuple[float, float, int, int]]:
    """(start, end, cue index, word index): which word is highlighted when. A cue's first
    word is lit from the cue's start; each word stays lit until the next one starts (so
    between words of a cue the last word spoken stays highlighted), the last until the
    cue ends."""
    out = []
    for ci, c in enumerate(cs):
        for wi, w in enumerate(c.words):
            start = c.start if wi == 0 else w.start
            end = c.words[wi + 1].start if wi + 1 < len(c.words) else c.end
            if end > start:
                out.append((start, end, ci, wi))
    return out


def active(cs: list[Cue], t: float) -> tuple[int, int] | None:
    """(cue index, word index) shown at clip time t, or None."""
    for start, end, ci, wi in spans(cs):
        if start <= t < end:
            return ci, wi
    return None


@lru_cache(maxsize=8)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / FONT_FILE), size)


@dataclass
class Layout:
    """Where a frame of `width` x `height` shows its captions, in a caption style (its size
    and position; server.core.model.CaptionStyle)."""
    width: int
    height: int
    style: CaptionStyle = field(default_factory=CaptionStyle)

    @property
    def size(self) -> int:                     # the font's em, in pixels
        return max(16, round(self.width * CAPTION_SIZES[self.style.size]))

    @property
    def margin(self) -> int:                   # safe margin on both sides
        return round(self.width * 0.08)

    @property
    def centre_y(self) -> int:
        vertical = self.height > self.width
        if self.style.position == "top":
            # below the top edge, where platforms put the account name and the search bar
            return round(self.height * (0.2 if vertical else 0.15))
        if self.style.position == "middle":
            return round(self.height * 0.5)
        # Vertical video: above the bottom third, where platforms put their buttons and text.
        return round(self.height * (0.68 if vertical else 0.8))

    def lines(self, texts: list[str], size: int) -> list[list[int]]:
        """Greedy line breaks within the margins: word indexes per line."""
        f = font(size)
        lines: list[list[int]] = [[]]
        width = 0.0
        for i, t in enumerate(texts):
            wl = f.getlength(t)
            sep = f.getlength(gap(texts[i - 1], t)) if lines[-1] else 0.0
            if lines[-1] and width + sep + wl > self.width - 2 * self.margin:
                lines.append([])
                width, sep = 0.0, 0.0
            width += sep + wl
            lines[-1].append(i)
        return lines

    @staticmethod
    def line_width(texts: list[str], size: int) -> float:
        f = font(size)
        return sum(f.getlength(t) for t in texts) + sum(f.getlength(gap(a, b)) for a, b in zip(texts, texts[1:]))

    def fit(self, texts: list[str]) -> tuple[int, list[list[int]]]:
        """The font size and line breaks of a cue. A word too wide for the margins on its own
        (a long compound, a URL) shrinks the cue's font until it fits."""
        size = self.size
        for _ in range(4):
            lines = self.lines(texts, size)
            widest = max(self.line_width([texts[i] for i in ln], size) for ln in lines)
            if widest <= self.width - 2 * self.margin or size <= 16:
                break
            size = max(16, int(size * (self.width - 2 * self.margin) / widest))
        return size, lines


def _ass_time(t: float) -> str:
    cs = max(0, round(t * 100))
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def _ass_colour(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return f"&H00{b:02X}{g:02X}{r:02X}&"


def _ass_text(text: str) -> str:
    # braces open override blocks and a backslash starts a tag: neither may reach libass
    return text.replace("\\", "/").replace("{", "(").replace("}", ")")


def _on_frame_grid(frame_times: list[float]):
    """A function that moves a time to a centisecond (ASS's unit) that no frame lies
    between, so a word lights up on the same frame as its exact time says."""
    def snap(t: float) -> float:
        i = bisect.bisect_left(frame_times, t)          # frames [i:] are at or after t
        if i == 0 or i == len(frame_times):
            return t
        # any time in (previous frame, this frame] selects the same frames; frames are
        # more than 10 ms apart, so a whole centisecond lies in there
        return min(frame_times[i], (int(frame_times[i - 1] * 100 + 1e-6) + 1) / 100)
    return snap


def to_ass(cs: list[Cue], width: int, height: int, frame_times: list[float],
           style: CaptionStyle | None = None) -> str:
    """The burned-in captions of a `width` x `height` clip whose frames are shown at
    `frame_times` (clip time, seconds), in `style` (size, spoken word's colour, position)."""
    layout = Layout(width, height, style or CaptionStyle())
    highlight = _ass_colour(layout.style.highlight_rgb)
    ascent, descent = font(1000).getmetrics()
    em_to_ass = (ascent + descent) / 1000        # libass sizes a font by its ascent + descent
    snap = _on_frame_grid(frame_times)
    events = []
    for start, end, ci, wi in spans(cs):
        texts = [_ass_text(w.text.upper()) for w in cs[ci].words]
        size, lines = layout.fit(texts)
        line_h = round(size * 1.25)
        stroke = max(2, size // 12)
        band_h = line_h * len(lines) + 2 * stroke
        top = min(max(0, layout.centre_y - band_h // 2), height - band_h)
        for li, idxs in enumerate(lines):
            body = "".join((gap(texts[i - 1], texts[i]) if n else "")
                           + ("{\\c%s}%s{\\c%s}" % (highlight, texts[i], _ass_colour(WHITE)) if i == wi else texts[i])
                           for n, i in enumerate(idxs))
            tags = "{\\an8\\pos(%d,%d)\\fs%.2f\\bord%d}" % (width // 2, top + stroke + li * line_h,
                                                        size * em_to_ass, stroke)
            events.append(f"Dialogue: 0,{_ass_time(snap(start))},{_ass_time(snap(end))},Caption,,0,0,0,,{tags}{body}")
    return "\n".join([
        "[Script Info]", "ScriptType: v4.00+", f"PlayResX: {width}", f"PlayResY: {height}",
        "WrapStyle: 2", "ScaledBorderAndShadow: yes", "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, "
        "Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, "
        "Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        f"Style: Caption,{FONT_NAME},{layout.size * em_to_ass:.2f},{_ass_colour(WHITE)},{_ass_colour(WHITE)},"
        f"{_ass_colour(OUTLINE)},&H00000000&,-1,0,0,0,100,100,0,0,1,2,0,8,0,0,0,1", "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
        *events, ""])
