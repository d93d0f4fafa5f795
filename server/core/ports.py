"""The ports: what the pipeline needs from the outside world. Each adapter in
`server/adapters/` implements one, and mypy checks that it does (CI runs it over server/)."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence

from server.core.model import (ClipAnalysis, ClipBounds, ClipPlan, Classification, MediaInfo,
                               Progress, RenderOptions, RenderResult, Transcript)


class Downloader(Protocol):
    def download(self, url: str, workdir: Path, progress: Progress) -> MediaInfo: ...


class Transcriber(Protocol):
    name: str
    model: str

    def transcribe(self, media: Path, progress: Progress, language: str | None = None) -> Transcript:
        """`language` forces one language; None: the configured one, else detected per
        stretch of speech."""


class Analyzer(Protocol):
    name: str

    def classify(self, transcript: Transcript, title: str | None) -> Classification: ...

    # `media` is the stored source (a local file), for analyzers that listen to the audio
    # as well as read the words; None when it is not at hand.
    def find_clips(self, transcript: Transcript, classification: Classification,
                   bounds: ClipBounds, progress: Progress,
                   media: Path | None = None) -> ClipAnalysis: ...


class Renderer(Protocol):
    def render(self, media: Path, clip: ClipPlan, out_video: Path, out_thumb: Path,
               transcript: Transcript | None = None,
               options: RenderOptions | None = None,
               progress: Progress | None = None) -> RenderResult: ...   # progress: 0..1 of this clip


class Storage(Protocol):
    def put(self, key: str, src: Path, content_type: str) -> None: ...
    def local_path(self, key: str) -> Path: ...          # a readable local file (cached if remote)
    def url(self, key: str) -> str: ...                  # what clients fetch
    def urls(self, keys: Sequence[str]) -> dict[str, str]: ...   # many at once; one it cannot sign may be left out
    def delete_prefix(self, prefix: str) -> None: ...


class MediaFacts(Protocol):
    """What a probe learns about a media file."""
    duration_s: float
    width: int | None
    height: int | None


class Prober(Protocol):
    def probe(self, path: Path) -> MediaFacts: ...               # raises StepError when unusable
    def check_complete(self, path: Path, duration_s: float) -> None: ...
    def sha256_of(self, path: Path) -> str: ...


class WebhookSender(Protocol):
    def send(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POSTs `body` and returns the receiver's status code, following no redirect;
        raises StepError when no answer came (network) or the address is refused
        (private_url)."""
        ...
