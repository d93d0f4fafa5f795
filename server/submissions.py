"""Creating a job: one row in `videos`, one in `video_processing_queue`, one transaction."""
from __future__ import annotations

import secrets

from psycopg.types.json import Jsonb

from server.services import Services


def new_token() -> str:
    return secrets.token_urlsafe(24)        # 192 random bits, independent of any id


def enqueue(s: Services, *, token: str, kind: str, url: str | None, upload_key: str | None,
            fingerprint: str, title: str | None = None, priority: int = 0,
            idempotency_key: str | None = None, force: bool = False,
            options: dict | None = None) -> str:
    """Returns the job's token: a new one, or the earlier one for a repeated
    Idempotency-Key. `force` stops the worker from reusing the download and transcript
    of an earlier submission of the same source."""
    with s.db.tx() as tx:
        row = tx.one("insert_video", token=token, source_kind=kind, source_url=url,
                     upload_key=upload_key, fingerprint=fingerprint,
                     idempotency_key=idempotency_key, title=title,
                     options=Jsonb({**(options or {}), **({"force": True} if force else {})}))
        if row is None:
            return tx.one("video_by_idempotency_key", idempotency_key=idempotency_key)["token"]
        tx.run("enqueue", video_id=row["id"], priority=priority, max_attempts=s.cfg.max_attempts)
    return token
