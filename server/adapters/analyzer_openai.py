"""GPT-4o (or any OpenAI-compatible model) as the analyzer, through structured outputs.

The model sees the transcript as numbered sentences ("[17 @ 734.2s] text") and answers
with sentence indices, which map to word-timed starts and ends: clip times never come from
the model. Long videos are cut into overlapping windows so every part of the video gets
the same attention (one call over a whole transcript favours its start):

  pass 1  each window is scored and proposes candidate passages;
  pass 2  the best-scored windows refine their candidates into titled clips;
  then    clips repeating another in meaning are dropped, and `snap_and_bound` applies the
          same sentence snapping, length bounds, overlap rule and budget as the offline
          analyzer.

A subject the submitter asked for (`topic`) goes before the transcript in both passes, as
the viewer's words; the model marks each clip `on_topic`, and those clips rank first.

Prompts are versioned text files in server/prompts/. Titles are held to the same rules as
the offline analyzer's (server/analysis/titles.py: at most 70 characters, whole words, no
ellipsis), and a reason the model repeats is made distinct.
"""
from __future__ import annotations

import math
import re
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from server.adapters import llm_schema
from server.adapters.llm_client import LLMClient, Usage
from server.adapters.llm_schema import SchemaError
from server.analysis.titles import fit_title, unique_reasons
from server.settings import Settings
from server.pipeline.sentences import (Sentence, clip_budget, rank, shortfall_notice,
                                       snap_and_bound, split_sentences)
from server.core.model import (ClipAnalysis, ClipBounds, ClipPlan, Classification, Progress,
                          Transcript)

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
# A released prompt is never edited: a change is a new file with the next version.
PROMPT_VERSIONS = {"classify": "v1", "clip_windows": "v2", "clip_refine": "v3",
                   "strategies": "v1"}
WINDOW_S = 360.0            # ~6 minutes of transcript per pass-1 call
WINDOW_OVERLAP_S = 60.0     # a passage cut by one window's edge lies whole in the next
CANDIDATES_PER_WINDOW = 4
CLASSIFY_CHARS = 12_000     # transcript sent to classify; longer ones are sampled evenly
SAME_MEANING = 0.85         # cosine between clip texts above which one repeats the other


@lru_cache(maxsize=None)
def prompt(name: str) -> str:
    return (PROMPTS / f"{name}.{PROMPT_VERSIONS[name]}.txt").read_text()


@lru_cache(maxsize=1)
def strategies() -> dict[str, str]:
    """Per content type, what makes a good clip (strategies.v1.txt, '# type' headings)."""
    parts = re.split(r"^# (\w+)\n", prompt("strategies"), flags=re.M)[1:]
    return {label: text.strip() for label, text in zip(parts[::2], parts[1::2])}


def numbered(sentences: list[Sentence]) -> str:
    return "\n".join(f"[{s.index} @ {s.start:.1f}s] {s.text}" for s in sentences)


def windows(sentences: list[Sentence], window_s: float = WINDOW_S,
            overlap_s: float = WINDOW_OVERLAP_S) -> list[tuple[int, int]]:
    """Overlapping (first, last) sentence ranges of about window_s each, covering all."""
    spans, first = [], 0
    while first < len(sentences):
        limit = sentences[first].start + window_s
        last = first
        while last + 1 < len(sentences) and sentences[last + 1].end <= limit:
            last += 1
        spans.append((first, last))
        if last == len(sentences) - 1:
            break
        resume = sentences[last].end - overlap_s
        first = next(k for k in range(first + 1, last + 2) if sentences[k].start >= resume)
    return spans


def _in_window(first: int, last: int):
    def check(answer: dict) -> None:
        for k, item in enumerate(answer.get("candidates", answer.get("clips", []))):
            a, b = item["start_sentence"], item["end_sentence"]
            if not (first <= a <= b <= last):
                raise SchemaError(f"item {k}: sentences {a}-{b} must satisfy "
                                  f"{first} <= start_sentence <= end_sentence <= {last}")
    return check


def _excerpt(sentences: list[Sentence], limit: int = CLASSIFY_CHARS) -> str:
    """The transcript, or for a long one evenly spaced runs of sentences from all of it."""
    text = " ".join(s.text for s in sentences)
    if len(text) <= limit:
        return text
    runs = 8
    per_run = max(1, int(len(sentences) * limit / len(text)) // runs)
    starts = np.linspace(0, len(sentences) - per_run, runs).astype(int)
    return "\n[...]\n".join(" ".join(s.text for s in sentences[a:a + per_run]) for a in starts)


class OpenAIAnalyzer:
    name = "openai"

    def __init__(self, cfg: Settings, llm: LLMClient | None = None, window_s: float = WINDOW_S):
        self.model = cfg.openai_model
        self.window_s = window_s
        self.llm = llm or LLMClient(cfg.openai_api_key, cfg.openai_base_url, cfg.openai_model,
                                    cfg.openai_timeout_s, cfg.openai_retries,
                                    cfg.openai_max_wait_s)

    def classify(self, transcript: Transcript, title: str | None) -> Classification:
        sentences = split_sentences(transcript)
        if not sentences:
            return Classification("other", 0.0, "Empty transcript.", [], transcript.language,
                                  self.name)
        usage = Usage()
        user = f"Title: {title or '(none)'}\n\nTranscript:\n{_excerpt(sentences)}"
        answer = self.llm.ask("classification", prompt("classify"), user,
                              llm_schema.CLASSIFICATION, usage)
        return Classification(
            answer["content_type"], round(answer["confidence"], 3), answer["rationale"],
            answer["topics"][:5], answer["language"] or transcript.language, self.name,
            raw={"answer": answer, **self._meta(usage)},
            tokens_used=usage.tokens, cost_usd=round(usage.cost_usd, 6))

    def find_clips(self, transcript: Transcript, classification: Classification,
                   bounds: ClipBounds, progress: Progress,
                   media: Path | None = None) -> ClipAnalysis:
        """The model reads the transcript only; `media` is not used."""
        progress(0.0)
        sentences = split_sentences(transcript)
        budget = clip_budget(sentences, bounds)
        if not budget:
            progress(1.0)
            return ClipAnalysis([], self.name, raw={"sentences": len(sentences)},
                                notice=shortfall_notice(sentences, bounds, []))
        # All the speech shorter than a clip, and the submitter allows one clip of it all:
        # the model is told the clip may be that short.
        span = sentences[-1].end - sentences[0].start
        min_s = span if bounds.allow_short and span < bounds.min_s else bounds.min_s
        # The subject goes with the transcript, as the viewer's words (the prompt says so).
        subject = f"Subject asked for: {bounds.topic}\n\n" if bounds.topic else ""
        strategy = strategies().get(classification.content_type, strategies()["other"])
        usage = Usage()
        spans = windows(sentences, self.window_s)
        # Pass 1 and pass 2 calls, for progress.
        refine_count = min(len(spans), budget)
        calls = len(spans) + refine_count

        scored = []
        for k, (first, last) in enumerate(spans):
            system = prompt("clip_windows").format(
                strategy=strategy, max_candidates=CANDIDATES_PER_WINDOW,
                min_s=min_s, max_s=bounds.max_s)
            answer = self.llm.ask("window_scores", system,
                                  subject + numbered(sentences[first:last + 1]),
                                  llm_schema.WINDOW_SCORES, usage, _in_window(first, last))
            scored.append({"first": first, "last": last, **answer})
            progress(0.9 * (k + 1) / calls)

        best = sorted((w for w in scored if w["candidates"]),
                      key=lambda w: w["window_score"], reverse=True)[:refine_count]
        per_window = math.ceil(budget / max(1, len(best))) + 1
        plans, refined = [], []
        for k, window in enumerate(sorted(best, key=lambda w: w["first"])):
            answer = self._refine(window, sentences, strategy, min_s, bounds.max_s, per_window,
                                  subject, usage)
            refined.append({"first": window["first"], "last": window["last"], **answer})
            plans += [self._plan(c, sentences, bool(bounds.topic)) for c in answer["clips"]]
            progress(0.9 * (len(spans) + k + 1) / calls)

        distinct, repeats = _drop_repeats(plans, sentences)
        clips = snap_and_bound(distinct, sentences, bounds)
        reasons = unique_reasons([c.reason for c in clips], [c.hook for c in clips])
        clips = [replace(c, reason=r) for c, r in zip(clips, reasons)]
        progress(1.0)
        notice = shortfall_notice(sentences, bounds, clips)
        return ClipAnalysis(clips, self.name, notice=notice, raw={
            "sentences": len(sentences), "clip_budget": budget, "topic": bounds.topic,
            "windows": scored, "refined": refined, "dropped_as_repeats": repeats,
            **self._meta(usage)}, tokens_used=usage.tokens, cost_usd=round(usage.cost_usd, 6))

    def _refine(self, window: dict, sentences, strategy, min_s, max_s, max_clips, subject,
                usage) -> dict:
        first, last = window["first"], window["last"]
        listed = "\n".join(f"- sentences {c['start_sentence']}-{c['end_sentence']} "
                           f"(score {c['score']}): {c['why']}" for c in window["candidates"])
        system = prompt("clip_refine").format(strategy=strategy, min_s=min_s, max_s=max_s,
                                              max_clips=max_clips)
        user = (f"{subject}Transcript:\n{numbered(sentences[first:last + 1])}\n\n"
                f"Candidates:\n{listed}")
        return self.llm.ask("clip_refinement", system, user, llm_schema.CLIP_REFINEMENT, usage,
                            _in_window(first, last))

    @staticmethod
    def _plan(clip: dict, sentences: list[Sentence], topic_asked: bool) -> ClipPlan:
        return ClipPlan(sentences[clip["start_sentence"]].start,
                        sentences[clip["end_sentence"]].end, fit_title(clip["title"]),
                        clip["reason"].strip(), float(clip["score"]), clip["hook"].strip(),
                        clip["on_topic"] if topic_asked else None)

    def _meta(self, usage: Usage) -> dict:
        return {"model": self.model, "prompt_versions": PROMPT_VERSIONS, "calls": usage.calls,
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
                "cost_usd_estimate": round(usage.cost_usd, 6)}


def _drop_repeats(plans: list[ClipPlan], sentences: list[Sentence]):
    """Best first (`rank`), drop a clip whose text means nearly the same as a better one's
    (windows overlap, and a talk may make one point twice). Overlaps in time are left to
    snap_and_bound, which trims rather than drops."""
    if len(plans) < 2:
        return plans, []
    from server.analysis.embeddings import embed
    ranked = sorted(plans, key=rank, reverse=True)
    texts = [" ".join(s.text for s in sentences if p.start_s <= s.start and s.end <= p.end_s)
             for p in ranked]
    vectors = embed(texts)
    kept: list[int] = []
    repeats: list[dict] = []
    for k, plan in enumerate(ranked):
        overlapping = [j for j in kept if ranked[j].start_s < plan.end_s
                       and plan.start_s < ranked[j].end_s]
        similar = [j for j in kept if j not in overlapping
                   and float(vectors[j] @ vectors[k]) > SAME_MEANING]
        if similar:
            repeats.append({"start_s": plan.start_s, "end_s": plan.end_s, "title": plan.title,
                            "repeats": ranked[similar[0]].title})
        else:
            kept.append(k)
    return [ranked[k] for k in kept], repeats
