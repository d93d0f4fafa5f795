"""The use cases: everything the product does, each as one function, called alike by the
Flask views (which only translate HTTP), the CLI and the worker.

    submit.py    submit a video: a URL, or a complete file (one-request upload, completed
                 chunked upload, the CLI's file); the one path every source takes
    uploads.py   resumable uploads: create, receive a chunk, progress, complete
    keys.py      API keys: create, list, revoke, rotate; authenticate a request
    videos.py    read a video's status and transcript, list a key's videos, cancel,
                 find a media file
    audio.py     speech enhancement on its own: submit, read
    work.py      the worker's side: claim, run a step, advance with its checkpoint,
                 reuse an earlier checkpoint, retry, fail, release

They run against `Services` (settings, stores, adapters) and report a refused request as
`Refused`, which names the problem; the views turn it into a 4xx (`rate_limited` carries
`retry_after_s`, which becomes the Retry-After header).
"""
from __future__ import annotations


class Refused(Exception):
    """A request the product will not carry out. `reason` is one of REASONS."""

    REASONS = ("invalid", "not_found", "conflict", "too_large", "unsupported", "mismatch",
               "unauthorized", "rate_limited")

    def __init__(self, reason: str, message: str, **extra: object):
        assert reason in self.REASONS, reason
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.extra = extra
