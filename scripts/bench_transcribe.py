"""Transcription on the spoken test corpus (`scripts.make_talks`): per talk and decoding
mode, the seconds taken and the real-time factor, the share of the speech the transcript
covers, the word error rate against the script, and the languages found with their
shares (beside the true ones).

Modes:
  sequential   this server, WHISPER_BATCH_SIZE=0
  batched      this server, WHISPER_BATCH_SIZE=8 (faster-whisper's batched decoding)
  old          the previous transcriber (language detected once, on the first 30 s),
               for comparison; decoding as `sequential`

    .venv/bin/python -m scripts.bench_transcribe                   # every talk, every mode
    .venv/bin/python -m scripts.bench_transcribe --min-minutes 10 --modes sequential batched
    .venv/bin/python -m scripts.bench_transcribe --only en-de-switch --modes old sequential

Missing talks are built first (see make_talks). The load average is printed beside every
figure: on a busy machine wall-clock timings mean little, so the CPU seconds the process
used (all its threads) are printed too; they suffer much less from other processes.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from scripts import make_talks
from scripts.speech_metrics import talk_errors

MODES = ("old", "sequential", "batched")
BATCH = 8


def old_transcribe(transcriber, media: Path):
    """What the server did before per-stretch languages: one language for the whole file,
    detected on the first 30 s of speech. Measured the same way as the new path."""
    from server.adapters import speech_audio
    from server.core.model import Segment, Transcript, Word
    from server.core.speech import coverage, total
    model = transcriber.load()
    segments_iter, info = model.transcribe(
        str(media), beam_size=transcriber.beam_size, word_timestamps=True, temperature=[0.0],
        condition_on_previous_text=False, vad_filter=True,
        vad_parameters={"min_silence_duration_ms": 1000})
    segments = [Segment(s.start, s.end, s.text.strip(),
                        [Word(w.start, w.end, w.word, w.probability) for w in s.words or []], info.language)
                for s in segments_iter]
    audio = speech_audio.load(media)
    return Transcript(info.language, info.language_probability, info.duration, "faster-whisper",
                      transcriber.model, segments, [{"language": info.language, "share": 1.0}],
                      total(audio.speech), coverage(audio.speech, segments, speech_audio.VAD_RULE))


def load() -> str:
    return "%.1f" % os.getloadavg()[0]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--talks", type=Path, default=make_talks.default_dir(), help="corpus directory")
    p.add_argument("--only", nargs="*", help="these talk ids")
    p.add_argument("--min-minutes", type=float, default=0.0, help="only talks at least this long")
    p.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    p.add_argument("--model", default=os.environ.get("WHISPER_MODEL", "base"))
    p.add_argument("--json", type=Path, help="also write the rows here")
    p.add_argument("--markdown", action="store_true", help="also print the rows as a markdown table")
    args = p.parse_args()

    from server.adapters.transcriber_faster_whisper import FasterWhisperTranscriber
    talks = [t for t in make_talks.talks() if not args.only or t.id in args.only]
    prose = make_talks.texts()
    manifests = []
    for talk in talks:
        if not make_talks.is_built(talk, args.talks, prose):
            make_talks.build(talk, args.talks, args.talks / "sentences", prose)
        manifest = json.loads((args.talks / f"{talk.id}.json").read_text(encoding="utf-8"))
        if manifest["duration_s"] >= args.min_minutes * 60:
            manifests.append(manifest)

    data_dir = Path(os.environ.get("DATA_DIR") or tempfile.mkdtemp(prefix="bench-transcribe-"))
    transcriber = FasterWhisperTranscriber(args.model, data_dir)
    started = time.monotonic()
    transcriber.load()
    print(f"model {args.model} ({transcriber.device}, {transcriber.compute_type}, "
          f"{transcriber.threads} threads), loaded in {time.monotonic() - started:.1f} s, "
          f"{os.cpu_count()} cores, load average {load()}")
    print(f"{'talk':<20} {'min':>5} {'mode':<10} {'seconds':>8} {'CPU s':>8} {'x real time':>11} {'coverage':>8} "
          f"{'WER':>6} {'WER per language':<24} {'languages found':<26} {'true languages':<22} load")
    rows = []
    for manifest in manifests:
        media = args.talks / manifest["file"]
        true_total = sum(x["speech_s"] for x in manifest["languages"])
        truth = " ".join(f"{x['language']} {x['speech_s'] / true_total:.2f}" for x in manifest["languages"])
        for mode in args.modes:
            transcriber.batch_size = BATCH if mode == "batched" else 0
            before = load()
            t0, cpu0 = time.monotonic(), time.process_time()
            if mode == "old":
                result = old_transcribe(transcriber, media)
            else:
                result = transcriber.transcribe(media, lambda p: None)
            seconds, cpu = time.monotonic() - t0, time.process_time() - cpu0
            overall, per_language = talk_errors(manifest, result)
            found = " ".join(f"{x['language']} {x['share']:.2f}" for x in result.languages)
            per = " ".join(f"{lang} {e.rate:.1%}" for lang, e in per_language.items())
            row = {"talk": manifest["id"], "minutes": manifest["duration_s"] / 60, "mode": mode,
                   "seconds": seconds, "cpu_seconds": cpu, "realtime": manifest["duration_s"] / seconds,
                   "coverage": result.coverage, "wer": overall.rate,
                   "wer_by_language": {k: e.rate for k, e in per_language.items()},
                   "languages": result.languages, "true_languages": manifest["languages"],
                   "load": f"{before}-{load()}"}
            rows.append(row)
            print(f"{manifest['id']:<20} {row['minutes']:5.1f} {mode:<10} {seconds:8.1f} {cpu:8.1f} "
                  f"{row['realtime']:10.1f}x {result.coverage or 0:8.3f} {overall.rate:6.1%} "
                  f"{per:<24} {found:<26} {truth:<22} {row['load']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    if args.markdown:
        print(markdown(rows))
    return 0


def markdown(rows: list[dict]) -> str:
    """The rows as the README's table."""
    lines = ["| talk | min | mode | seconds (CPU s) | coverage | WER | WER per language | languages found | true | load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        true_total = sum(x["speech_s"] for x in r["true_languages"])
        lines.append("| {} | {:.1f} | {} | {:.0f} ({:.0f}) | {:.3f} | {:.1%} | {} | {} | {} | {} |".format(
            r["talk"], r["minutes"], r["mode"], r["seconds"], r["cpu_seconds"], r["coverage"] or 0, r["wer"],
            " ".join(f"{k} {v:.1%}" for k, v in r["wer_by_language"].items()),
            " ".join(f"{x['language']} {x['share']:.2f}" for x in r["languages"]),
            " ".join(f"{x['language']} {x['speech_s'] / true_total:.2f}" for x in r["true_languages"]),
            r["load"]))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
