"""Evaluate both analyzers on talks with known topic boundaries.

The labelled set: synthetic transcripts (not audio) assembled from the sections of
scripts/samples/talk.txt and short_talk.txt (10 topics) in several shuffled orders, so
each section start is a true topic boundary. Words are timed at 2.5 words/s with a pause
after every sentence, and Whisper-like segments ignore sentence ends.

Figures, per analyzer, averaged over the talks:
- boundary precision/recall: a clip edge (start or end) counts as a hit when it lies within
  one sentence of a true section edge; recall = share of true boundaries some clip edge hits,
  precision = share of clip edges that hit one.
- on-sentence share: clips that start where a sentence starts and end where one ends.
- whole-section share: clips lying inside one section (a whole thought, not two halves).
- coverage: share of the talk's tenths that hold a clip start, and clips per talk.
- titles: share of titles of at most TITLE_MAX characters that end on a whole word of the
  clip (no "…", no word cut short); share of talks with two clips of the same title, and
  with two clips of the same reason.
- same-passage spread: the talks are the same sections in other orders, so a clip holding
  exactly the same sentences appears in several talks; the spread is the mean difference
  between the highest and lowest score one passage gets across talks (0 when a score means
  the same whatever video the passage is in).

The OpenAI analyzer runs against scripts/fake_openai_server.py, so its figures measure the
pipeline around the model (windows, snapping, bounds, de-duplication), not GPT-4o itself.
Run: .venv/bin/python -m scripts.eval_clips [--talks N]
"""
from __future__ import annotations

import argparse
import os
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from scripts.make_sample import parse_talk
from server.core.model import ClipBounds, Classification, Transcript
from scripts.synthetic_transcript import make_transcript

def sections() -> list[list[str]]:
    """Every sample section as its list of sentences."""
    out = []
    for name in ("talk.txt", "short_talk.txt"):
        for _, text in parse_talk((ROOT / "scripts" / "samples" / name).read_text()):
            out.append(re.split(r"(?<=[.?!])\s+", text.strip()))
    return out


def labelled_talks(count: int, seed: int = 7) -> list[tuple[Transcript, list[int]]]:
    """(transcript, index of each section's first sentence) for `count` shuffled orders."""
    rng, parts, talks = random.Random(seed), sections(), []
    for _ in range(count):
        order = rng.sample(parts, len(parts))
        starts = [sum(len(p) for p in order[:k]) for k in range(len(order))]
        talks.append((make_transcript(order), starts))
    return talks


TITLE_MAX = 70


def whole_title(title: str, clip_text: str) -> bool:
    """At most TITLE_MAX characters, not ending in an ellipsis, and its last word is a
    whole word of the clip (or the title ends on a question mark the clip asks with)."""
    if not title or len(title) > TITLE_MAX or title.rstrip().endswith(("…", "...")):
        return False
    last = re.findall(r"[\w'-]+", title.lower())
    return bool(last) and last[-1] in set(re.findall(r"[\w'-]+", clip_text.lower()))


def score(clips, transcript: Transcript, section_starts: list[int]) -> dict:
    from server.pipeline.sentences import split_sentences
    sentences = split_sentences(transcript)
    starts = {round(s.start, 3): s.index for s in sentences}
    ends = {round(s.end, 3): s.index for s in sentences}
    true_edges = section_starts[1:]                 # a boundary sits before these sentences
    edges = []
    for c in clips:
        a, b = starts.get(round(c.start_s, 3)), ends.get(round(c.end_s, 3))
        edges += [x for x in (a, None if b is None else b + 1) if x is not None]
    hits = [e for e in edges if any(abs(e - t) <= 1 for t in true_edges)]
    found = [t for t in true_edges if any(abs(e - t) <= 1 for e in edges)]
    section_of = {}
    for k, first in enumerate(section_starts):
        last = section_starts[k + 1] if k + 1 < len(section_starts) else len(sentences)
        section_of.update({i: k for i in range(first, last)})
    whole = sum(1 for c in clips if round(c.start_s, 3) in starts and round(c.end_s, 3) in ends
                and section_of[starts[round(c.start_s, 3)]] == section_of[ends[round(c.end_s, 3)]])
    on_sentence = sum(1 for c in clips if round(c.start_s, 3) in starts
                      and round(c.end_s, 3) in ends)
    tenths = {min(9, int(10 * c.start_s / transcript.duration_s)) for c in clips}
    n = max(1, len(clips))
    texts = [" ".join(s.text for s in sentences if c.start_s <= s.start and s.end <= c.end_s)
             for c in clips]
    titles_ok = sum(whole_title(c.title, text) for c, text in zip(clips, texts))
    return {"clips": len(clips), "precision": len(hits) / max(1, len(edges)),
            "recall": len(found) / max(1, len(true_edges)), "on_sentence": on_sentence / n,
            "whole_section": whole / n, "coverage": len(tenths) / 10,
            "titles_ok": titles_ok / n,
            "dup_titles": float(len({c.title for c in clips}) < len(clips)),
            "dup_reasons": float(len({c.reason for c in clips}) < len(clips)),
            "passages": {text: c.score for c, text in zip(clips, texts)}}


def spread(rows: list[dict]) -> float:
    """Mean (max - min) score of the passages that are clips in more than one talk."""
    seen: dict[str, list[float]] = {}
    for row in rows:
        for text, value in row["passages"].items():
            seen.setdefault(text, []).append(value)
    spreads = [max(v) - min(v) for v in seen.values() if len(v) > 1]
    return sum(spreads) / len(spreads) if spreads else float("nan")


def evaluate(analyzer, talks) -> dict:
    rows = [score(analyzer.find_clips(t, Classification("lecture", 0.9), ClipBounds(),
                                      lambda _: None).clips, t, starts) for t, starts in talks]
    means = {k: sum(r[k] for r in rows) / len(rows) for k in rows[0] if k != "passages"}
    return {**means, "spread": spread(rows)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--talks", type=int, default=5)
    args = parser.parse_args()
    from scripts.fake_openai_server import FakeOpenAI
    from server.adapters.analyzer_offline import OfflineAnalyzer
    from server.adapters.analyzer_openai import OpenAIAnalyzer
    from server.settings import Settings

    talks = labelled_talks(args.talks)
    minutes = sum(t.duration_s for t, _ in talks) / len(talks) / 60
    print(f"{len(talks)} synthetic talks, {minutes:.1f} min and "
          f"{len(talks[0][1])} sections each (boundaries known)")
    results = {"offline": evaluate(OfflineAnalyzer(), talks)}
    with FakeOpenAI() as fake:
        cfg = Settings.with_overrides({"openai_api_key": "sk-eval", "openai_base_url": fake.url})
        results["openai (fake model)"] = evaluate(OpenAIAnalyzer(cfg), talks)
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'analyzer':<20} {'clips':>6} {'bnd P':>6} {'bnd R':>6} {'on-sent':>8} "
          f"{'whole-sec':>9} {'coverage':>8} {'titles ok':>9} {'dup title':>9} "
          f"{'dup reason':>10} {'spread':>7}")
    for name, r in results.items():
        print(f"{name:<20} {r['clips']:>6.1f} {r['precision']:>6.2f} {r['recall']:>6.2f} "
              f"{r['on_sentence']:>8.2f} {r['whole_section']:>9.2f} {r['coverage']:>8.2f} "
              f"{r['titles_ok']:>9.2f} {r['dup_titles']:>9.2f} {r['dup_reasons']:>10.2f} "
              f"{r['spread']:>7.1f}")


if __name__ == "__main__":
    main()
