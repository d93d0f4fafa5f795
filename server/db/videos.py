"""The submissions' store: `videos`, and the job row each submission creates with it.
The only module that issues their queries."""
from __future__ import annotations

from psycopg.types.json import Jsonb

from server.core.stores import Row
from server.db import Database


class PgVideos:
    def __init__(self, db: Database):
        self.db = db

    def create(self, *, token: str, source_kind: str, source_url: str | None,
               upload_key: str | None, fingerprint: str, idempotency_key: str | None,
               title: str | None, options: dict, priority: int, max_attempts: int) -> str:
        with self.db.tx() as tx:
            row = tx.one("insert_video", token=token, source_kind=source_kind, source_url=source_url,
                         upload_key=upload_key, fingerprint=fingerprint,
                         idempotency_key=idempotency_key, title=title, options=Jsonb(options))
            if row is None:          # the idempotency key was used before: its submission
                earlier = tx.one("video_by_idempotency_key", idempotency_key=idempotency_key)
                assert earlier is not None
                return earlier["token"]
            tx.run("enqueue", video_id=row["id"], priority=priority, max_attempts=max_attempts)
        return token

    def status(self, token: str) -> Row | None:
        return self.db.one("status_by_token", token=token)

    def transcript(self, token: str) -> Row | None:
        return self.db.one("transcript_by_token", token=token)

    def job_id(self, token: str) -> int | None:
        row = self.db.one("job_id_by_token", token=token)
        return row["id"] if row else None
