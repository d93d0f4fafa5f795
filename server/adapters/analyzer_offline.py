"""The Analyzer port without network or API key: the analysis package (server/analysis/)
on MiniLM sentence embeddings and plain, explainable heuristics."""
from __future__ import annotations

from server.analysis.classify import classify
from server.analysis.clips import find_clips
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
                   bounds: ClipBounds, progress: Progress) -> ClipAnalysis:
        return find_clips(split_sentences(transcript), classification, bounds, progress,
                          self.name)
