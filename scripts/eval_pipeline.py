"""The clip search judged on real speech, through the whole pipeline: the spoken talks of
`scripts.make_talks` (8 talks, 1-28 minutes, English, German, Spanish and French voices,
language switches, music and noise at 10 dB SNR, every topic's boundaries known) are
downloaded from a local HTTP server by the yt-dlp downloader, transcribed by this server's
transcriber, classified and searched for clips by each analyzer.

Analyzers, side by side on the same transcripts:
  old      the offline analyzer as it was at commit d2543c9, before the analysis package;
           run from a temporary `git worktree` of that commit in a subprocess (which
           reports the module it imported, so an installed copy cannot stand in for it)
  offline  the offline analyzer of this checkout (server/analysis/)
  openai   the GPT path: the real API when OPENAI_API_KEY is set (OPENAI_MODEL, gpt-4o by
           default), else scripts/fake_openai_server.py, labelled "fake model": the fake
           measures the pipeline around a model, not a model

Per talk, and over all talks:
  coverage   the share of the voice-activity time the transcript's words cover
  WER        word error rate against the script (scripts/speech_metrics.py)
  P chance   the P that clip edges put on sentence gaps at random would get
  clips      clips found
  P, R       boundary precision and recall: a clip edge is on a topic edge when it lies
             within one script sentence of it (the talk's own start and end count as topic
             edges). P = share of clip edges on a topic edge; R = share of the talk's topic
             boundaries that some clip edge is on. R is bounded by the number of clips
             (two edges each): it says how many topic changes the clips use
  crossing   share of clips with a topic boundary inside them, more than one sentence from
             either edge (two half topics)
  on sent.   share of clips that start within EDGE_S of a script sentence's start and end
             within EDGE_S of one's end (Whisper's word times are that exact)
  titles     share of titles of at most 70 characters, not cut (no "…" or "...", the last
             word a whole word of the clip); "dup": talks where two clips share a title.
             Whether a title reads well is not judged: one that stops on a whole word in
             mid-phrase passes
  topic@1    (offline and openai) a section's title given as `topic`: share of such
             requests whose first clip lies mostly inside that section
  no topic   the same sections, no topic given: share where the first clip is there anyway

"all" is the mean over the talks (topic@1: over all requests; dup title: the share of talks
with one). Transcripts are cached per talk, model and decoding setting (`--cache`, default
beside the talks; a change to the transcriber's code does not invalidate it: delete it), so
the analyzer comparison reruns in a few minutes; the first run transcribes 54 minutes of
audio. The load average is printed beside the timings.

    .venv/bin/python -m scripts.eval_pipeline                     # everything, prints the tables
    .venv/bin/python -m scripts.eval_pipeline --only en-short de --analyzers offline old
    .venv/bin/python -m scripts.eval_pipeline --markdown          # also the README's table
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

ROOT = Path(__file__).resolve().parents[1]
OLD_COMMIT = "d2543c9"
TITLE_MAX = 70
EDGE_S = 0.4                 # a clip edge this close to a script sentence's edge is on it
SENTENCE_TOLERANCE = 1       # a clip edge within one sentence of a topic edge is on it
ANALYZERS = ("old", "offline", "openai")


# --- the truth of a talk, and the figures -------------------------------------------------

@dataclass
class Script:
    """A talk's script: every sentence's time, and where each topic starts."""
    starts: list[float]          # sentence start times, in order
    ends: list[float]
    first_of_section: list[int]  # index of each section's first sentence

    @classmethod
    def of(cls, manifest: dict) -> "Script":
        starts: list[float] = []
        ends: list[float] = []
        firsts: list[int] = []
        for section in manifest["sections"]:
            firsts.append(len(starts))
            for s in section["sentences"]:
                starts.append(s["start_s"])
                ends.append(s["end_s"])
        return cls(starts, ends, firsts)

    @property
    def boundaries(self) -> list[int]:
        """Topic changes, as the index of the sentence each new topic opens with."""
        return self.first_of_section[1:]

    def gap_of_start(self, t: float) -> int:
        """The gap (before sentence k) nearest a clip's start."""
        return min(range(len(self.starts)), key=lambda k: abs(self.starts[k] - t))

    def gap_of_end(self, t: float) -> int:
        """The gap (after sentence k, so k + 1) nearest a clip's end."""
        return 1 + min(range(len(self.ends)), key=lambda k: abs(self.ends[k] - t))

    def section_of(self, sentence: int) -> int:
        return max(k for k, first in enumerate(self.first_of_section) if first <= sentence)


def boundary_figures(spans: Sequence[tuple[float, float]], script: Script) -> dict:
    """Precision and recall of the clips' edges against the topic edges, and the share of
    clips that cross a topic boundary (see the module's docstring)."""
    edges_true = [0, *script.boundaries, len(script.starts)]
    edges = [g for a, b in spans for g in (script.gap_of_start(a), script.gap_of_end(b))]
    on = [g for g in edges if any(abs(g - t) <= SENTENCE_TOLERANCE for t in edges_true)]
    found = [t for t in script.boundaries
             if any(abs(g - t) <= SENTENCE_TOLERANCE for g in edges)]
    crossing = 0
    for a, b in spans:
        first, after = script.gap_of_start(a), script.gap_of_end(b)
        # a boundary well inside the clip (not merely one sentence off its edges)
        crossing += any(first + SENTENCE_TOLERANCE < t < after - SENTENCE_TOLERANCE
                        for t in script.boundaries)
    n = len(spans)
    return {"precision": len(on) / len(edges) if edges else None,
            "recall": len(found) / len(script.boundaries) if script.boundaries else None,
            "crossing": crossing / n if n else None}


def chance_precision(script: Script) -> float:
    """P of clip edges put on sentence gaps at random: the share of the talk's gaps that lie
    within SENTENCE_TOLERANCE of a topic edge. P means something only above this."""
    edges_true = [0, *script.boundaries, len(script.starts)]
    gaps = range(len(script.starts) + 1)
    return sum(any(abs(g - t) <= SENTENCE_TOLERANCE for t in edges_true) for g in gaps) / len(gaps)


def on_sentences(spans: Sequence[tuple[float, float]], script: Script,
                 tolerance_s: float = EDGE_S) -> float | None:
    """Share of clips that start at a script sentence's start and end at one's end."""
    if not spans:
        return None
    ok = sum(1 for a, b in spans
             if min(abs(a - s) for s in script.starts) <= tolerance_s
             and min(abs(b - e) for e in script.ends) <= tolerance_s)
    return ok / len(spans)


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'’-]+", text.lower())


def title_ok(title: str, clip_text: str) -> bool:
    """At most TITLE_MAX characters, not ending in an ellipsis, and its last word is a
    whole word of the clip (a title cut mid-word ends on a word the clip never says)."""
    title = title.strip()
    if not title or len(title) > TITLE_MAX or title.endswith(("…", "...")):
        return False
    last = _words(title)
    return bool(last) and last[-1] in set(_words(clip_text))


def title_figures(titles: Sequence[str], clip_texts: Sequence[str]) -> dict:
    if not titles:
        return {"titles_ok": None, "dup_titles": False, "too_long": 0, "cut": 0}
    return {"titles_ok": sum(map(title_ok, titles, clip_texts)) / len(titles),
            "dup_titles": len({t.strip().lower() for t in titles}) < len(titles),
            "too_long": sum(len(t.strip()) > TITLE_MAX for t in titles),
            "cut": sum(t.strip().endswith(("…", "...")) for t in titles)}


def mostly_inside(span: tuple[float, float], manifest: dict, section: int) -> bool:
    """More than half of the clip lies inside the section (from its first sentence's start
    to the next section's start)."""
    sections = manifest["sections"]
    lo = sections[section]["start_s"]
    hi = sections[section + 1]["start_s"] if section + 1 < len(sections) else float("inf")
    a, b = span
    return max(0.0, min(b, hi) - max(a, lo)) > (b - a) / 2


def share(hits: Sequence[bool]) -> float | None:
    return sum(hits) / len(hits) if hits else None


def mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


# --- the talks, downloaded and transcribed (cached) -------------------------------------

def load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def manifests(talks_dir: Path, only: list[str] | None) -> list[dict]:
    from scripts import make_talks
    prose = make_talks.texts()
    out = []
    for talk in make_talks.talks():
        if only and talk.id not in only:
            continue
        if not make_talks.is_built(talk, talks_dir, prose):
            make_talks.build(talk, talks_dir, talks_dir / "sentences", prose)
        out.append(json.loads((talks_dir / f"{talk.id}.json").read_text(encoding="utf-8")))
    return out


@dataclass
class Heard:
    """A talk as the pipeline got it: the downloaded file and its transcript."""
    manifest: dict
    media: Path
    transcript: dict           # Transcript.to_dict()
    timings: dict              # download_s, transcribe_s, transcribe_cpu_s, load


def transcribe_all(found: list[dict], talks_dir: Path, cache: Path, cfg) -> list[Heard]:
    """Downloads each talk over HTTP (yt-dlp) and transcribes it, or takes both from the
    cache."""
    from scripts.media_server import MediaServer
    from server.adapters.downloader_ytdlp import YtDlpDownloader
    from server.adapters.transcriber_faster_whisper import FasterWhisperTranscriber
    cache.mkdir(parents=True, exist_ok=True)
    transcriber = FasterWhisperTranscriber(
        cfg.whisper_model, cfg.data_dir, device=cfg.whisper_device,
        compute_type=cfg.whisper_compute_type, threads=cfg.whisper_threads,
        beam_size=cfg.whisper_beam_size, batch_size=cfg.whisper_batch_size)
    setting = f"{cfg.whisper_model}-beam{cfg.whisper_beam_size}-batch{cfg.whisper_batch_size}"
    downloader = YtDlpDownloader(cfg.max_download_bytes, cfg.max_duration_s)
    out = []
    with MediaServer(talks_dir) as server:
        for m in found:
            key = hashlib.sha256(f"{m['fingerprint']}|{setting}".encode()).hexdigest()[:12]
            folder = cache / f"{m['id']}-{key}"
            media, meta = folder / "source.mp4", folder / "transcript.json"
            if not meta.exists():
                folder.mkdir(parents=True, exist_ok=True)
                before = load()
                t0 = time.monotonic()
                got = downloader.download(server.url(m["file"]), folder / "download", lambda _: None)
                shutil.move(got.path, media)
                shutil.rmtree(folder / "download", ignore_errors=True)
                download_s = time.monotonic() - t0
                t0, cpu0 = time.monotonic(), time.process_time()
                transcript = transcriber.transcribe(media, _bar(m["id"]))
                timings = {"download_s": round(download_s, 2),
                           "transcribe_s": round(time.monotonic() - t0, 1),
                           "transcribe_cpu_s": round(time.process_time() - cpu0, 1),
                           "load": f"{before}-{load()}", "setting": setting}
                meta.write_text(json.dumps({"transcript": transcript.to_dict(), "timings": timings}),
                                encoding="utf-8")
                print(_BAR_LINE_CLEAR if sys.stderr.isatty() else "", end="", file=sys.stderr)
                print(f"{m['id']:<20} {m['duration_s'] / 60:5.1f} min: downloaded in "
                      f"{download_s:.1f} s, transcribed in {timings['transcribe_s']:.0f} s "
                      f"({timings['transcribe_cpu_s']:.0f} CPU s), load {timings['load']}",
                      file=sys.stderr)
            saved = json.loads(meta.read_text(encoding="utf-8"))
            out.append(Heard(m, media, saved["transcript"], saved["timings"]))
    return out


_BAR_LINE_CLEAR = "\r\x1b[K"   # on a terminal, the talk's summary takes the bar's line


def _bar(label: str) -> Callable[[float], None]:
    """A progress bar on a terminal; a line per tenth in a log."""
    steps, shown = (100, "\r") if sys.stderr.isatty() else (10, "")
    last = [-1]

    def show(done: float) -> None:
        step = int(steps * min(1.0, done))
        if step == last[0]:
            return
        last[0] = step
        filled = 30 * step // steps
        print(f"{shown}{label:<20} transcribing [{'#' * filled}{'.' * (30 - filled)}] "
              f"{step / steps:4.0%}", end="\n" if step == steps or not shown else "",
              file=sys.stderr, flush=True)
    return show


# --- the analyzers ------------------------------------------------------------------------

@dataclass
class Found:
    clips: list[dict]          # start_s, end_s, title, reason, score
    seconds: float
    notice: str = ""


def run_current(analyzer, heard: Heard, topic: str | None = None, max_clips: int | None = None) -> Found:
    from server.core.model import ClipBounds, Transcript
    from server.settings import Settings
    cfg = Settings.with_overrides({})
    transcript = Transcript.from_dict(heard.transcript)
    bounds = ClipBounds(cfg.clip_min_s, cfg.clip_max_s, max_clips or cfg.clip_max_count, topic,
                        count_asked=max_clips is not None)
    t0 = time.monotonic()
    classification = analyzer.classify(transcript, None)   # the talks have no titles
    result = analyzer.find_clips(transcript, classification, bounds, lambda _: None, heard.media)
    clips = [{"start_s": c.start_s, "end_s": c.end_s, "title": c.title, "reason": c.reason,
              "score": c.score} for c in result.clips]
    return Found(clips, time.monotonic() - t0, result.notice)


# Run inside a worktree of OLD_COMMIT: reads [{"transcript", "title", "bounds"}] on stdin,
# writes the analyzer module's path and each talk's clips and seconds on stdout. That
# commit's analyzer took no media and no topic.
_OLD_RUNNER = """
import json, sys, time
import server.adapters.analyzer_offline as old
from server.adapters.analyzer_offline import OfflineAnalyzer
from server.core.model import ClipBounds, Transcript
analyzer, out = OfflineAnalyzer(), []
analyzer.warm_up()
for item in json.load(sys.stdin):
    transcript = Transcript.from_dict(item["transcript"])
    t0 = time.monotonic()
    kind = analyzer.classify(transcript, item["title"])
    result = analyzer.find_clips(transcript, kind, ClipBounds(*item["bounds"]), lambda _: None)
    out.append({"seconds": time.monotonic() - t0,
                "clips": [{"start_s": c.start_s, "end_s": c.end_s, "title": c.title,
                           "reason": c.reason, "score": c.score} for c in result.clips]})
json.dump({"module": old.__file__, "talks": out}, sys.stdout)
"""


def run_old(heard: list[Heard]) -> list[Found]:
    """The analyzer of OLD_COMMIT on the same transcripts, from a temporary worktree."""
    from server.settings import Settings
    cfg = Settings.with_overrides({})
    folder = Path(tempfile.mkdtemp(prefix="eval-old-analyzer-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(folder),
                    OLD_COMMIT], check=True)
    try:
        items = [{"transcript": h.transcript, "title": None,
                  "bounds": [cfg.clip_min_s, cfg.clip_max_s, cfg.clip_max_count]} for h in heard]
        done = subprocess.run([sys.executable, "-c", _OLD_RUNNER], cwd=folder, check=True,
                              input=json.dumps(items), stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(folder)})
        answer = json.loads(done.stdout)
        if not Path(answer["module"]).is_relative_to(folder):   # e.g. an installed copy
            raise SystemExit(f"the old analyzer came from {answer['module']}, not {folder}")
        return [Found(r["clips"], r["seconds"]) for r in answer["talks"]]
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(folder)],
                       check=False)
        shutil.rmtree(folder.parent, ignore_errors=True)


class openai_analyzer:
    """The OpenAI analyzer against the real API (OPENAI_API_KEY set) or the local fake."""

    def __enter__(self):
        from scripts.fake_openai_server import FakeOpenAI
        from server.adapters.analyzer_openai import OpenAIAnalyzer
        from server.settings import Settings
        self.fake = None
        if os.environ.get("OPENAI_API_KEY"):
            cfg = Settings.with_overrides({})
            self.label = f"openai ({cfg.openai_model})"
        else:
            self.fake = FakeOpenAI().__enter__()
            cfg = Settings.with_overrides({"openai_api_key": "sk-eval",
                                           "openai_base_url": self.fake.url})
            self.label = "openai (fake model)"
        return self.label, OpenAIAnalyzer(cfg)

    def __exit__(self, *exc):
        if self.fake is not None:
            self.fake.__exit__(*exc)


# --- figures per talk ---------------------------------------------------------------------

def clip_text(transcript: dict, start: float, end: float) -> str:
    return " ".join(w["word"].strip() for s in transcript["segments"] for w in s["words"]
                    if start - 0.01 <= (w["start"] + w["end"]) / 2 <= end + 0.01)


def figures(heard: Heard, found: Found) -> dict:
    script = Script.of(heard.manifest)
    spans = [(c["start_s"], c["end_s"]) for c in found.clips]
    texts = [clip_text(heard.transcript, a, b) for a, b in spans]
    return {"clips": len(spans), **boundary_figures(spans, script),
            "on_sentences": on_sentences(spans, script),
            **title_figures([c["title"] for c in found.clips], texts),
            "seconds": found.seconds}


def run_each(analyzer, heard: list[Heard], topics: int) -> tuple[list[Found], list[list[bool]]]:
    """Each talk's clips, and whether the first clip is in the section asked for when
    `topics` of its sections' titles are given as the topic (see topic_picks)."""
    found = [run_current(analyzer, h) for h in heard]
    trials = [[first_inside(run_current(analyzer, h, h.manifest["sections"][k]["title"]),
                            h.manifest, k) for k in topic_picks(h.manifest, topics)] for h in heard]
    return found, trials


def topic_picks(manifest: dict, count: int) -> list[int]:
    """`count` sections spread over the talk (first and last included)."""
    n = len(manifest["sections"])
    if count <= 0 or n < 2:
        return []
    return sorted({round(k * (n - 1) / max(1, count - 1)) for k in range(count)})


def first_inside(found: Found, manifest: dict, section: int) -> bool:
    first = found.clips[:1]
    return bool(first) and mostly_inside((first[0]["start_s"], first[0]["end_s"]), manifest, section)


def transcript_figures(heard: Heard) -> dict:
    from scripts.speech_metrics import talk_errors
    from server.core.model import Transcript
    overall, _ = talk_errors(heard.manifest, Transcript.from_dict(heard.transcript))
    return {"coverage": heard.transcript.get("coverage"), "wer": overall.rate,
            "chance": chance_precision(Script.of(heard.manifest))}


# --- printing -----------------------------------------------------------------------------

def _f(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def table(rows: list[dict], labels: list[str], markdown: bool) -> str:
    """Per talk and overall: the transcript's figures, then each analyzer's."""
    head = ["talk (min)", "coverage", "WER", "P chance", "analyzer", "clips", "P", "R", "crossing",
            "on sent.", "titles ok", "dup title", "topic@1", "no topic"]
    lines = []
    for row in rows + [overall(rows, labels)]:
        for n, label in enumerate(labels):
            r = row["analyzers"].get(label)
            if r is None:
                continue
            first = n == 0
            lines.append([
                f"{row['talk']} ({row['minutes']:.1f})" if first else "",
                _f(row["coverage"], ".3f") if first else "", _f(row["wer"], ".1%") if first else "",
                _f(row["chance"]) if first else "",
                label, _f(r["clips"], ".1f" if row["talk"] == "all" else ".0f"), _f(r["precision"]),
                _f(r["recall"]), _f(r["crossing"]), _f(r["on_sentences"]), _f(r["titles_ok"]),
                _f(float(r["dup_titles"]), ".2f" if row["talk"] == "all" else ".0f"),
                _f(share(r["topic_trials"])), _f(share(r["untold_trials"]))])
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    return "\n".join("  ".join(x.ljust(w) for x, w in zip(line, widths)) for line in [head, *lines])


def overall(rows: list[dict], labels: list[str]) -> dict:
    """Means over the talks (dup title: the share of talks with a duplicate)."""
    out: dict = {"talk": "all", "minutes": sum(r["minutes"] for r in rows),
                 "coverage": mean([r["coverage"] for r in rows]), "wer": mean([r["wer"] for r in rows]),
                 "chance": mean([r["chance"] for r in rows]),
                 "analyzers": {}}
    for label in labels:
        mine = [r["analyzers"][label] for r in rows if label in r["analyzers"]]
        if not mine:
            continue
        keys = ("clips", "precision", "recall", "crossing", "on_sentences", "titles_ok")
        merged: dict = {k: mean([m[k] for m in mine]) for k in keys}
        merged["dup_titles"] = mean([float(m["dup_titles"]) for m in mine])
        for key in ("topic_trials", "untold_trials"):
            merged[key] = [t for m in mine for t in m[key]]
        out["analyzers"][label] = merged
    return out


def main() -> int:
    from scripts import make_talks
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--talks", type=Path, default=make_talks.default_dir(), help="corpus directory")
    p.add_argument("--cache", type=Path, default=None,
                   help="downloaded files and transcripts (default: TALKS/pipeline)")
    p.add_argument("--only", nargs="*", help="these talk ids")
    p.add_argument("--analyzers", nargs="*", default=list(ANALYZERS), choices=ANALYZERS)
    p.add_argument("--topics", type=int, default=3, help="topic requests per talk (0: none)")
    p.add_argument("--json", type=Path, help="also write every figure and clip here")
    p.add_argument("--markdown", action="store_true", help="also print the README's table")
    args = p.parse_args()

    from server.settings import Settings
    cfg = Settings.with_overrides({"data_dir": Path(os.environ.get("DATA_DIR") or
                                                    Path(tempfile.gettempdir()) / "clips-eval-data")})
    print(f"{os.cpu_count()} cores, load average {load()}, Whisper {cfg.whisper_model} "
          f"(batch {cfg.whisper_batch_size}), clips {cfg.clip_min_s:g}-{cfg.clip_max_s:g} s",
          file=sys.stderr)
    talks = manifests(args.talks, args.only)
    heard = transcribe_all(talks, args.talks, args.cache or args.talks / "pipeline", cfg)

    rows = [{"talk": h.manifest["id"], "minutes": h.manifest["duration_s"] / 60,
             **transcript_figures(h), "timings": h.timings, "analyzers": {}} for h in heard]
    results: dict[str, list[Found]] = {}
    trials: dict[str, list[list[bool]]] = {}    # the old analyzer took no topic
    if "old" in args.analyzers:
        results[f"old offline ({OLD_COMMIT})"] = run_old(heard)
    if {"offline", "openai"} & set(args.analyzers):
        # both use MiniLM (openai to drop repeats); its load is not the analysis's time
        from server.analysis.embeddings import embedding_model
        embedding_model()
    if "offline" in args.analyzers:
        from server.adapters.analyzer_offline import OfflineAnalyzer
        results["offline"], trials["offline"] = run_each(OfflineAnalyzer(), heard, args.topics)
    if "openai" in args.analyzers:
        with openai_analyzer() as (label, analyzer):
            results[label], trials[label] = run_each(analyzer, heard, args.topics)
    labels = list(results)
    for label, found in results.items():
        for k, (row, h, f) in enumerate(zip(rows, heard, found)):
            row["analyzers"][label] = {**figures(h, f), "clip_list": f.clips, "notice": f.notice}
            # the same sections, with no topic given: how often the first clip is there anyway
            untold = [first_inside(f, h.manifest, s) for s in topic_picks(h.manifest, args.topics)]
            row["analyzers"][label].update(
                topic_trials=trials[label][k] if label in trials else [], untold_trials=untold)

    print(f"\nload average {load()}; transcripts: "
          + ", ".join(f"{r['talk']} {r['timings']['transcribe_s']:.0f} s "
                      f"({r['timings']['transcribe_cpu_s']:.0f} CPU s, load {r['timings']['load']})"
                      for r in rows))
    for label in labels:
        print(f"{label}: " + ", ".join(f"{r['talk']} {r['analyzers'][label]['seconds']:.1f} s"
                                       for r in rows))
    print()
    print(table(rows, labels, markdown=False))
    if args.markdown:
        print()
        print(table(rows, labels, markdown=True))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
