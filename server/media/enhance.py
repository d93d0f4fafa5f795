"""Speech enhancement (noise suppression) with RNNoise, whose model is compiled into the
pyrnnoise wheel's library.

RNNoise works on 10 ms frames of 48 kHz mono audio and carries state from frame to frame.
The audio is split into one chunk per core; each chunk is processed by its own RNNoise
state, starting half a second early so the state has settled when the chunk's own audio
begins (the lead-in output is dropped). ctypes releases the GIL during each call, so
threads run the chunks in parallel."""
from __future__ import annotations

import ctypes
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from pyrnnoise import rnnoise

FRAME = rnnoise.FRAME_SIZE             # 480 samples = 10 ms at 48 kHz
RATE = rnnoise.SAMPLE_RATE
LEAD_IN = RATE // 2


def _denoise_span(audio: np.ndarray, begin: int, end: int) -> np.ndarray:
    start = max(0, begin - LEAD_IN)
    buf = np.ascontiguousarray(audio[start:end], dtype=np.float32)
    buf = np.pad(buf, (0, -len(buf) % FRAME))
    state = rnnoise.create()
    try:
        base = buf.ctypes.data
        for off in range(0, len(buf), FRAME):
            ptr = ctypes.cast(base + off * 4, ctypes.POINTER(ctypes.c_float))
            rnnoise.lib.rnnoise_process_frame(state, ptr, ptr)
    finally:
        rnnoise.destroy(state)
    return buf[begin - start:end - start]


def denoise(audio: np.ndarray, workers: int | None = None) -> np.ndarray:
    """`audio`: 48 kHz mono samples in int16 units (as float or int16). Returns float32 in
    the same units."""
    workers = max(1, workers or os.cpu_count() or 1)
    n = len(audio)
    if n == 0:
        return np.zeros(0, np.float32)
    # Chunk edges on frame boundaries, so every chunk runs the same frame grid.
    edges = sorted({min(n, round(n * i / workers / FRAME) * FRAME) for i in range(workers)} | {n})
    spans = list(zip(edges[:-1], edges[1:]))
    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(lambda s: _denoise_span(audio, *s), spans))
    return np.concatenate(parts)
