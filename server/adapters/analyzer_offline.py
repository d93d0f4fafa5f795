"""The Analyzer port without network or API key: the analysis package (server/analysis/)
on MiniLM sentence embeddings, the soundtrack, and plain, explainable heuristics."""
from __future__ import annotations

from pathlib import Path

from server.analysis import clips
from server.analysis.classify import classify
from server.analysis.embeddings import embedding_model
from server.core.model import ClipAnalysis, ClipBounds, Classification, Progress, Transcript
from server.pipeline.sentences import split_sentences


class OfflineAnalyzer:
    name = "offline"

    def warm_up(self) -> None:
        """Loads the embedding model now (it otherwise loads on first use)."""
        embedding_model()

    def classify(self, transcript: Transcript, title: str | None) -> Classification:
        return classify(split_sentences(transcript), title, transcript.language, self.name)

    def find_clips(self, transcript: Transcript, classification: Classification,
                   bounds: ClipBounds, progress: Progress,
                   media: Path | None = None) -> ClipAnalysis:
        return clips.find_clips(transcript, classification, bounds, progress, media, self.name)
