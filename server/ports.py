"""The interfaces the pipeline talks to. Each adapter in `server/adapters/` implements one.

Plain dataclasses travel between steps and are stored as JSON in the checkpoint tables,
so everything here must round-trip through `to_dict` / `from_dict`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Protocol

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


@dataclass
class Transcript:
    language: str
    language_probability: float
    duration_s: float
    engine: str
    model: str
    segments: list[Segment]

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments).strip()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Transcript":
        segs = [Segment(s["start"], s["end"], s["text"], [Word(**w) for w in s.get("words", [])])
                for s in d["segments"]]
        return cls(d["language"], d["language_probability"], d["duration_s"], d["engine"],
                   d["model"], segs)


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


@dataclass
class MediaInfo:
    path: Path
    title: str | None
    duration_s: float
    bytes: int
    width: int | None = None
    height: int | None = None


class Downloader(Protocol):
    def download(self, url: str, workdir: Path, progress: Progress) -> MediaInfo: ...


class Transcriber(Protocol):
    name: str
    model: str

    def transcribe(self, media: Path, progress: Progress) -> Transcript: ...


class Analyzer(Protocol):
    name: str

    def classify(self, transcript: Transcript, title: str | None) -> Classification: ...

    def find_clips(self, transcript: Transcript, classification: Classification,
                   bounds: ClipBounds, progress: Progress) -> ClipAnalysis: ...


class Renderer(Protocol):
    def render(self, media: Path, clip: ClipPlan, out_video: Path, out_thumb: Path,
               transcript: Transcript | None = None) -> None: ...


class Storage(Protocol):
    def put(self, key: str, src: Path, content_type: str) -> None: ...
    def local_path(self, key: str) -> Path: ...          # a readable local file (cached if remote)
    def url(self, key: str) -> str: ...                  # what clients fetch
    def delete_prefix(self, prefix: str) -> None: ...
