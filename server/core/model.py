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


@dataclass
class ClipBounds:
    min_s: float = 15.0
    max_s: float = 90.0
    max_clips: int = 10


@dataclass
class ClipPlan:
    start_s: float
    end_s: float
    title: str
    reason: str
    score: float               # 0..100
    hook: str = ""


@dataclass
class ClipAnalysis:
    clips: list[ClipPlan]
    analyzer: str
    raw: dict = field(default_factory=dict)
    tokens_used: int = 0
    cost_usd: float = 0.0


FORMATS = ("landscape", "vertical", "square")


@dataclass
class RenderOptions:
    """How a video's clips are rendered, chosen when the video is submitted."""
    format: str = "landscape"
    captions: bool = True           # burned in (vertical and square); the caption files are always written
    enhance: bool = False           # RNNoise speech enhancement before loudness normalisation

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
