"""Generated media for the render tests: every frame says which frame it is, a beep marks
a known instant, and a real photograph of a face moves across the frame."""
from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np

from server.media.ffmpeg import FFMPEG

INDEX_FPS = 25
BEEP_AT_S = 4.0


def write_video(frames, size: tuple[int, int], fps: int, out: Path, codec: list[str], audio: str) -> Path:
    proc = subprocess.Popen([FFMPEG, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
                             "-s", f"{size[0]}x{size[1]}", "-r", str(fps), "-i", "-",
                             "-f", "lavfi", "-i", audio, *codec, "-c:a", "aac", "-shortest", str(out)],
                            stdin=subprocess.PIPE)
    assert proc.stdin is not None
    for f in frames:
        proc.stdin.write(np.ascontiguousarray(f).tobytes())
    proc.stdin.close()
    assert proc.wait() == 0
    return out


def indexed_video(out: Path, seconds: float = 10.0, codec: list[str] | None = None) -> Path:
    """Frame i: top half grey level 16 + 4*(i % 50), bottom half 16 + 4*(i // 50). A 1 kHz
    beep starts at BEEP_AT_S, i.e. at frame 100, over a quiet 220 Hz hum."""
    def frames():
        for i in range(int(seconds * INDEX_FPS)):
            f = np.empty((180, 320, 3), np.uint8)
            f[:90], f[90:] = 16 + 4 * (i % 50), 16 + 4 * (i // 50)
            yield f
    audio = (f"aevalsrc='0.5*sin(2*PI*1000*t)*between(t,{BEEP_AT_S},{BEEP_AT_S + 0.3})"
             f"+0.05*sin(2*PI*220*t)':s=44100:d={seconds}")
    return write_video(frames(), (320, 180), INDEX_FPS, out,
                       codec or ["-c:v", "libx264", "-g", "25", "-bf", "2", "-pix_fmt", "yuv420p"], audio)


def frame_indices(path: Path) -> tuple[list[int], list[float]]:
    """The index each decoded frame shows, and its time."""
    idx, times = [], []
    with av.open(str(path)) as c:
        for f in c.decode(c.streams.video[0]):
            a = f.to_ndarray(format="rgb24")
            h = a.shape[0] // 2
            # only the centre of each half: sharp edges blur under compression
            top, bottom = a[h // 4:h * 3 // 4].mean(), a[h + h // 4:h + h * 3 // 4].mean()
            idx.append(int(round((bottom - 16) / 4)) * 50 + int(round((top - 16) / 4)))
            times.append(f.time)
    return idx, times


def beep_onset(path: Path) -> float:
    """Time of the first 10 ms window whose 1 kHz level is well above the hum."""
    with av.open(str(path)) as c:
        stream = c.streams.audio[0]
        chunks = [f.to_ndarray().mean(axis=0) for f in c.decode(stream)]
        rate = stream.rate
    x = np.concatenate(chunks)
    win = rate // 100
    hop = np.arange(0, len(x) - win, win)
    t = np.arange(win) / rate
    probe = np.exp(-2j * np.pi * 1000 * t)
    level = np.array([abs(np.dot(x[i:i + win], probe)) for i in hop])
    return float(hop[np.argmax(level > level.max() / 4)] / rate)


def moving_face_video(out: Path, seconds: float = 4.0, fps: int = 15, moving: bool = True) -> tuple[Path, Callable[[float], float]]:
    """The astronaut's face (skimage.data) over a grey 960x540 frame, moving from left to
    right (or still in the centre). Returns the file and face_x(t), the face centre in pixels."""
    from skimage.data import astronaut
    face = astronaut()[30:290, 120:340]          # head and shoulders, the face centred at x~110
    fw, W, H = face.shape[1], 960, 540
    left0, left1 = 40, W - fw - 40

    def left(t: float) -> int:
        return int(round(left0 + (left1 - left0) * t / seconds)) if moving else (W - fw) // 2

    def frames():
        for i in range(int(seconds * fps)):
            f = np.full((H, W, 3), 90, np.uint8)
            x = left(i / fps)
            f[140:140 + face.shape[0], x:x + fw] = face
            yield f
    write_video(frames(), (W, H), fps, out, ["-c:v", "libx264", "-g", str(2 * fps), "-pix_fmt", "yuv420p"],
                f"sine=f=300:d={seconds}")
    return out, lambda t: left(t) + fw / 2
