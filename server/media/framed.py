"""Vertical and square clips in one ffmpeg run: Python plans (where the crop goes, what the
captions say), ffmpeg decodes, crops or fits over a blurred background, burns the captions
in with libass, encodes, and writes the thumbnail, without a frame passing through Python.

The crop window follows the speaker through `sendcmd`, which moves the crop filter's x at
the frames where the planned path moves; with no face found the whole frame is fitted over
a darkened, blurred copy of itself."""
from __future__ import annotations

import bisect
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from server.core.failures import fatal
from server.core.model import CaptionStyle
from server.media import captions, encoder, reframe
from server.media.ffmpeg import FfmpegFailed, run_with_progress, said
from server.media.frames import CutWindow
from server.media.loudness import aac_args

log = logging.getLogger(__name__)

SIZES = {"vertical": (1080, 1920), "square": (1080, 1080)}
SAMPLING_SHARE = 0.15         # of a clip's progress: finding the face (the rest is the encode)


def _even(x: float) -> int:
    return max(2, int(round(x / 2)) * 2)


def _even_floor(x: float) -> int:
    # the crop filter moves 4:2:0 video in steps of 2 pixels; round as the frame pipe did
    return int(round(x)) // 2 * 2


@dataclass
class Framing:
    """How the source frames become output frames."""
    out_w: int
    out_h: int
    crop_w: int              # the crop window (source pixels) when following a face
    crop_h: int
    path: list[float] | None  # left edge of the crop per frame; None: blurred fit

    @classmethod
    def find(cls, src: Path, w: CutWindow, fmt: str, progress: Callable[[float], None] = lambda f: None
             ) -> "Framing":
        """Follows the face through the clip (the costly part: decoding and detection)."""
        return cls.plan(w, fmt, reframe.face_samples(src, w, progress))

    @classmethod
    def plan(cls, w: CutWindow, fmt: str, samples: list[tuple[float, float | None]]) -> "Framing":
        out_w, out_h = SIZES[fmt]
        crop_w = min(w.width, round(w.height * out_w / out_h))
        # a source narrower than the format (a vertical video made square) is cropped in
        # height too, around the centre, instead of being squashed
        crop_h = min(w.height, round(crop_w * out_h / out_w))
        path = reframe.crop_path(samples, [t - w.first_pts for t in w.frame_times], w.width, crop_w)
        return cls(out_w, out_h, crop_w, crop_h, path)

    def crop_commands(self, times: list[float]) -> str:
        """sendcmd script: each time the crop's (even) left edge changes, the new x is sent
        half way between the frame before and the frame it applies to. Empty when the crop
        holds still all through (sendcmd refuses an empty script)."""
        assert self.path is not None
        lines, last = [], _even_floor(self.path[0])
        for i in range(1, len(self.path)):
            x = _even_floor(self.path[i])
            if x != last:
                lines.append(f"{(times[i - 1] + times[i]) / 2:.6f} crop x {x};")
                last = x
        return "".join(line + "\n" for line in lines)

    def video_chain(self, w: CutWindow, commands: str | None = None) -> str:
        """The filters from the source frames to the output frames, before captions; the
        crop moves by the sendcmd script in the file `commands`, if any."""
        if self.path is not None:
            y = (w.height - self.crop_h) // 2
            send = f"sendcmd=f={commands}," if commands else ""
            return (f"{send}crop=w={self.crop_w}:h={self.crop_h}:x={_even_floor(self.path[0])}:y={y},"
                    f"scale={self.out_w}:{self.out_h}:flags=bicubic,setsar=1")
        cover = max(self.out_w / w.width, self.out_h / w.height)
        fit = min(self.out_w / w.width, self.out_h / w.height)
        fw, fh = _even(w.width * fit), _even(w.height * fit)
        # background: the centre of the frame at the output's aspect, blurred at 1/8 scale,
        # scaled back up and darkened to half (in limited-range YUV: halve the distance
        # from black, and from grey for the colour planes)
        return (f"split[bgin][fgin];"
                f"[bgin]crop={_even(self.out_w / cover)}:{_even(self.out_h / cover)},"
                f"scale={_even(self.out_w / 8)}:{_even(self.out_h / 8)}:flags=area,gblur=sigma=4,"
                f"scale={self.out_w}:{self.out_h}:flags=bilinear,"
                f"lutyuv=y=(val-16)/2+16:u=(val-128)/2+128:v=(val-128)/2+128[bg];"
                f"[fgin]scale={fw}:{fh}:flags=area[fg];"
                f"[bg][fg]overlay={(self.out_w - fw) // 2}:{(self.out_h - fh) // 2},setsar=1")


def render_framed(src: Path, w: CutWindow, framing: Framing, audio_wav: Path, out: Path, thumb: Path,
                  cues: list[captions.Cue] | None, workdir: Path, encoders: list[str],
                  threads: int = 0, progress: Callable[[float], None] = lambda f: None,
                  style: CaptionStyle | None = None) -> tuple[str, str]:
    """Renders the clip and its thumbnail in one ffmpeg run, the captions (if any) in
    `style`; returns (method, encoder used)."""
    times = [t - w.first_pts for t in w.frame_times]
    moves = framing.crop_commands(times) if framing.path is not None else ""
    if moves:
        (workdir / "crop.cmd").write_text(moves)
    chain = framing.video_chain(w, "crop.cmd" if moves else None)
    if cues:
        (workdir / "captions.ass").write_text(captions.to_ass(cues, framing.out_w, framing.out_h, times, style),
                                              encoding="utf-8")
        fonts = workdir / "fonts"
        fonts.mkdir(exist_ok=True)
        if not (fonts / captions.FONT_FILE).exists():
            os.symlink(captions.FONT_DIR / captions.FONT_FILE, fonts / captions.FONT_FILE)
        chain += ",ass=captions.ass:fontsdir=fonts"
    thumb_frame = min(len(times) - 1, bisect.bisect_left(times, w.duration / 3 - 0.25 / w.fps))
    graph = (f"[0:v]setpts=PTS-STARTPTS,{chain},split[v][t];"
             f"[t]select=eq(n\\,{thumb_frame}),{encoder.THUMB_SCALE}[th]")
    for i, name in enumerate(encoders):
        # -noautorotate: the plan was made on the stored frames, as the decoder gives them
        args = ["-loglevel", "error", "-noautorotate", "-ss", f"{max(0.0, w.first_pts - 0.25 / w.fps):.6f}",
                "-i", str(src.resolve()), "-i", str(audio_wav.resolve()), "-filter_complex", graph,
                "-map", "[v]", "-map", "1:a:0", *encoder.video_args(name, w.fps, threads), *aac_args(audio_wav),
                "-frames:v", str(len(times)), "-fps_mode", "passthrough", "-movflags", "+faststart",
                str(out.resolve()),
                "-map", "[th]", *encoder.THUMB_JPEG, str(thumb.resolve())]
        try:
            run_with_progress(args, w.duration, progress, cwd=workdir)
            return ("reframe" if framing.path is not None else "blurred_fit"), name
        except FfmpegFailed as e:
            if i + 1 < len(encoders):
                log.warning("%s failed, rendering with %s instead: %s", name, encoders[i + 1], e.stderr[-300:])
                continue
            raise fatal("corrupt_media", f"ffmpeg failed while rendering the clip: {said(e.stderr)}")
    raise AssertionError("no encoder to try")
