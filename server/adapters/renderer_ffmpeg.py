"""Renders a clip ready to post: exact cut, the requested format, captions, clean audio,
and beside the video its .srt, .vtt and JSON manifest."""
from __future__ import annotations

import json
import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile

from server.adapters.media_probe import probe
from server.media import captions, encoder, loudness
from server.media.enhance import denoise
from server.media.ffmpeg import run
from server.media.framed import SAMPLING_SHARE, SIZES, Framing, render_framed
from server.media.frames import CutWindow, cut_window
from server.media.smartcut import CannotCopy, plan_pieces, render_landscape
from server.core import subtitles
from server.core.model import ClipPlan, Progress, RenderOptions, RenderResult, Transcript

log = logging.getLogger(__name__)


class FfmpegRenderer:
    def __init__(self, threads: int = 0, video_encoder: str = "auto"):
        """`video_encoder`: auto (NVENC when a session opens, else libx264), libx264, or
        h264_nvenc (tried first, libx264 when its session fails)."""
        self.threads = threads
        self.encoders = encoder.candidates(video_encoder)

    def _audio(self, media: Path, start: float, duration: float, enhance: bool, tmp: Path) -> Path:
        raw = tmp / "audio.wav"
        loudness.decode(["-ss", f"{start:.6f}", "-t", f"{duration:.6f}", "-i", str(media)], raw,
                        channels=1 if enhance else None)
        if enhance:
            samples, rate = soundfile.read(str(raw), dtype="int16")
            cleaned = np.clip(denoise(samples.astype(np.float32), self.threads or None), -32768, 32767)
            soundfile.write(str(raw), cleaned.astype(np.int16), rate, subtype="PCM_16")
        out = tmp / "audio_norm.wav"
        loudness.normalise(raw, out)
        return out

    def render(self, media: Path, clip: ClipPlan, out_video: Path, out_thumb: Path,
               transcript: Transcript | None = None, options: RenderOptions | None = None,
               progress: Progress | None = None) -> RenderResult:
        opts = options or RenderOptions()
        report = progress or (lambda f: None)
        used = encoder.LIBX264
        info = probe(media)
        start = max(0.0, clip.start_s)
        end = max(start + 0.1, min(clip.end_s, info.duration_s))
        with tempfile.TemporaryDirectory(dir=out_video.parent) as tmpname:
            tmp = Path(tmpname)
            if not info.has_video:
                method, first, last = "audio_only", start, end
                self._audio_only(media, first, last, opts, tmp, out_video)
            else:
                w = cut_window(media, start, end)
                first, last = w.first_pts, w.end_pts
                words = captions.clip_words(transcript, w.first_pts, w.end_pts) if transcript else []
                # the audio is prepared in a thread while the face is followed (both mostly
                # in native code that lets go of the GIL)
                with ThreadPoolExecutor(1) as pool:
                    audio = pool.submit(self._audio, media, w.first_pts, w.duration, opts.enhance, tmp)
                    if opts.format == "landscape":
                        method = self._landscape(media, w, audio.result, out_video, out_thumb, tmp)
                    else:
                        share = SAMPLING_SHARE
                        framing = Framing.find(media, w, opts.format, lambda f: report(share * f))
                        cues = captions.cues(words) if opts.captions else None
                        method, used = render_framed(media, w, framing, audio.result(), out_video, out_thumb, cues,
                                                     tmp, self.encoders, self.threads,
                                                     lambda f: report(share + (1 - share) * f),
                                                     style=opts.caption_style)
            if method == "audio_only":
                run(["-loglevel", "error", "-ss", f"{(last - first) / 3:.3f}", "-i", str(out_video),
                     "-vf", encoder.THUMB_SCALE, *encoder.THUMB_JPEG, str(out_thumb)])
        report(1.0)
        sidecars = self._sidecars(out_video, clip, opts, transcript, first, last, used)
        return RenderResult(method, first, last, sidecars)

    def _landscape(self, media: Path, w: CutWindow, audio: Callable[[], Path], out: Path, thumb: Path,
                   tmp: Path) -> str:
        """The smart cut starts on the video while `audio()` is still being prepared."""
        try:
            render_landscape(media, w, plan_pieces(w, tmp), audio, out, thumb, tmp, self.threads)
            return "smart_cut"
        except CannotCopy as e:
            log.info("full re-encode: %s", e)
        render_landscape(media, w, plan_pieces(w, tmp, copy=False), audio, out, thumb, tmp, self.threads)
        return "full_encode"

    def _audio_only(self, media: Path, start: float, end: float, opts: RenderOptions, tmp: Path, out: Path) -> None:
        """An audio-only source still yields a postable mp4, over a plain background."""
        audio = self._audio(media, start, end - start, opts.enhance, tmp)
        w, h = SIZES.get(opts.format, (1280, 720))
        run(["-loglevel", "error", "-f", "lavfi", "-i", f"color=c=0x202040:s={w}x{h}:r=25",
             "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast",
             "-pix_fmt", "yuv420p", *loudness.aac_args(audio), "-shortest", "-movflags", "+faststart", str(out)])

    def _sidecars(self, out_video: Path, clip: ClipPlan, opts: RenderOptions,
                  transcript: Transcript | None, first: float, last: float, video_encoder: str) -> dict[str, Path]:
        words = captions.clip_words(transcript, first, last) if transcript else []
        cs = captions.cues(words)
        paths = {"srt": out_video.with_suffix(".srt"), "vtt": out_video.with_suffix(".vtt"),
                 "manifest": out_video.with_suffix(".json")}
        paths["srt"].write_text(subtitles.to_srt(captions.as_subtitles(cs)), encoding="utf-8")
        paths["vtt"].write_text(subtitles.to_vtt(captions.as_subtitles(cs)), encoding="utf-8")
        manifest = {
            "title": clip.title, "reason": clip.reason, "hook": clip.hook, "score": clip.score,
            "format": opts.format, "captions_burned_in": opts.captions and opts.format != "landscape",
            "caption_style": asdict(opts.caption_style),
            "enhanced": opts.enhance, "loudness_lufs": loudness.TARGET_LUFS, "video_encoder": video_encoder,
            "source": {"start_s": round(first, 6), "end_s": round(last, 6)},
            "duration_s": round(last - first, 6),
            "words": [{"word": w.text,
                       "start": round(max(0.0, w.start), 3), "end": round(min(w.end, last - first), 3),
                       "source_start": round(w.start + first, 3), "source_end": round(w.end + first, 3)}
                      for w in words],
        }
        paths["manifest"].write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        return paths
