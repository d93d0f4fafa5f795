"""The data that travels between steps and is stored as JSON in the checkpoint tables,
so everything here round-trips through `to_dict` / `from_dict` or `asdict`."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

# A step reports progress (0..1) through this callback. It raises when the job's lease
# was lost or the job was cancelled, which is how long work learns it must stop.
Progress = Callable[[float], None]


@dataclass
class Word:
    start: float
    end: float
    word: str
    probability: float = 1.0


@dataclass
class Segment:
    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)
    language: str | None = None     # the language this stretch of speech was transcribed in


@dataclass
class Transcript:
    language: str                   # the main language: the largest share of the speech
    language_probability: float
    duration_s: float
    engine: str
    model: str
    segments: list[Segment]
    # [{"language", "share", "speech_s"}], largest share first
    languages: list[dict] = field(default_factory=list)
    speech_s: float | None = None   # voice-activity time in the audio
    coverage: float | None = None   # share of that time the words cover (server.core.speech)
    # which audio stream was transcribed: {"index", "count", "reason", ...}
    audio_track: dict | None = None

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Transcript":
        segs = [Segment(s["start"], s["end"], s["text"], [Word(**w) for w in s.get("words", [])],
                        s.get("language"))
                for s in d["segments"]]
        return cls(d["language"], d["language_probability"], d["duration_s"], d["engine"],
                   d["model"], segs, d.get("languages") or [], d.get("speech_s"),
                   d.get("coverage"), d.get("audio_track"))


@dataclass
class Classification:
    content_type: str          # podcast, lecture, tutorial, news, commentary, other
    confidence: float          # 0..1
    rationale: str = ""
    topics: list[str] = field(default_factory=list)
    language: str | None = None
    analyzer: str = ""
    raw: dict = field(default_factory=dict)
    tokens_used: int = 0
    cost_usd: float = 0.0


CONTENT_TYPES = ("podcast", "lecture", "tutorial", "news", "commentary", "other")


TOPIC_MAX_CHARS = 200      # a subject, not a prompt


@dataclass
class ClipBounds:
    """What the clips of one video must respect: the settings' defaults, or what the
    submitter chose (`min_clip_s`, `max_clip_s`, `max_clips`, `topic`, `allow_short`)."""
    min_s: float = 15.0
    max_s: float = 90.0
    max_clips: int = 10
    topic: str | None = None        # a subject the clips should be about; None: any
    # max_clips is the submitter's: as many clips as stand alone, up to it. Otherwise the
    # number grows with the length of the speech (server/pipeline/sentences.py).
    count_asked: bool = False
    allow_short: bool = False       # speech shorter than min_s gives one clip of all of it


@dataclass
class ClipPlan:
    start_s: float
    end_s: float
    title: str
    reason: str
    score: float               # 0..100
    hook: str = ""
    # With a topic asked for: whether the clip is about it (on-topic clips rank first).
    # None: no topic was asked for.
    on_topic: bool | None = None


@dataclass
class ClipAnalysis:
    clips: list[ClipPlan]
    analyzer: str
    raw: dict = field(default_factory=dict)
    tokens_used: int = 0
    cost_usd: float = 0.0
    notice: str = ""           # why there are fewer clips than asked (or none), in words


FORMATS = ("landscape", "vertical", "square")

# Caption size: the font's em as a share of the frame's width.
CAPTION_SIZES = {"small": 0.055, "medium": 0.072, "large": 0.09}
CAPTION_POSITIONS = ("bottom", "middle", "top")


@dataclass(frozen=True)
class CaptionStyle:
    """How burned-in captions look. `bottom` sits above the bottom third on vertical video,
    where platforms put their buttons."""
    size: str = "medium"            # a key of CAPTION_SIZES
    highlight: str = "#FFD600"      # the colour of the word being spoken, #RRGGBB
    position: str = "bottom"        # one of CAPTION_POSITIONS

    @property
    def highlight_rgb(self) -> tuple[int, int, int]:
        h = self.highlight.lstrip("#")
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)

    @classmethod
    def from_dict(cls, d: dict | None) -> "CaptionStyle":
        """A stored style (extra keys, such as the preset's name, are ignored)."""
        d, default = d or {}, cls()
        return cls(d.get("size") or default.size, (d.get("highlight") or default.highlight).upper(),
                   d.get("position") or default.position)

    @classmethod
    def choose(cls, preset: str | None = None, size: str | None = None,
               highlight: str | None = None, position: str | None = None) -> "CaptionStyle":
        """A preset (classic when none is named) with any of its parts overridden."""
        base = CAPTION_PRESETS[preset or "classic"]
        return cls(size or base.size, (highlight or base.highlight).upper(), position or base.position)


CAPTION_PRESETS: dict[str, CaptionStyle] = {
    "classic": CaptionStyle("medium", "#FFD600", "bottom"),
    "bold": CaptionStyle("large", "#22D3EE", "middle"),
    "minimal": CaptionStyle("small", "#A3E635", "bottom"),
    "headline": CaptionStyle("large", "#F472B6", "top"),
}


@dataclass
class RenderOptions:
    """How a video's clips are rendered, chosen when the video is submitted (and again for
    one clip when it is re-rendered)."""
    format: str = "landscape"
    captions: bool = True           # burned in (vertical and square); the caption files are always written
    enhance: bool = False           # RNNoise speech enhancement before loudness normalisation
    caption_style: CaptionStyle = field(default_factory=CaptionStyle)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class RenderResult:
    method: str                     # smart_cut, full_encode, reframe, blurred_fit, audio_only
    start_s: float                  # exact source times of the first frame and of the end
    end_s: float
    sidecars: dict[str, Path]       # srt, vtt, manifest


@dataclass
class MediaInfo:
    path: Path
    title: str | None
    duration_s: float
    bytes: int
    width: int | None = None
    height: int | None = None
