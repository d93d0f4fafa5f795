"""The submissions' store: `videos`, the job row each submission creates with it, and its
webhook subscription. The only module that issues their queries."""
from __future__ import annotations

from psycopg.types.json import Jsonb

from server.core.steps import REUSABLE
from server.core.stores import Charge, IdempotencyConflict, Row, Subscription
from server.db import Database
from server.db import keys


class PgVideos:
    def __init__(self, db: Database):
        self.db = db

    def create(self, *, token: str, source_kind: str, source_url: str | None,
               upload_key: str | None, fingerprint: str, idempotency_key: str | None,
               title: str | None, options: dict, priority: int, max_attempts: int,
               request_fingerprint: str = "", charge: Charge | None = None,
               webhook: Subscription | None = None) -> str:
        key_id = charge.key_id if charge else None
        with self.db.tx() as tx:
            row = tx.one("insert_video", token=token, source_kind=source_kind, source_url=source_url,
                         upload_key=upload_key, fingerprint=fingerprint,
                         idempotency_key=idempotency_key, title=title, options=Jsonb(options),
                         api_key_id=key_id, request_fingerprint=request_fingerprint)
            if row is None:          # the idempotency key was used before in this scope
                earlier = tx.one("video_by_idempotency_key", idempotency_key=idempotency_key,
                                 api_key_id=key_id)
                assert earlier is not None
                if earlier["request_fingerprint"] != request_fingerprint:
                    raise IdempotencyConflict()
                return earlier["token"]
            if charge is not None:   # raises past a quota: the whole submission rolls back
                keys.charge(tx, key_id=charge.key_id, video_id=row["id"], videos=1,
                            source_s=charge.source_s, defaults=charge.limits,
                            require_minutes=charge.source_s is None)
            if webhook is not None:
                tx.run("insert_video_webhook", video_id=row["id"], url=webhook.url,
                       events=list(webhook.events), max_attempts=webhook.max_attempts)
            tx.run("enqueue", video_id=row["id"], priority=priority, max_attempts=max_attempts)
        return token

    def status(self, token: str) -> Row | None:
        rows = self.statuses([token])
        return rows[0] if rows else None

    def statuses(self, tokens: list[str]) -> list[Row]:
        return self.db.all("status_by_token", tokens=tokens,
                           coalesce_steps=[str(step) for step in REUSABLE])

    def page_of_key(self, key_id: int, *, before_id: int | None, statuses: list[str] | None,
                    limit: int) -> list[Row]:
        return self.db.all("videos_of_key", key_id=key_id, before_id=before_id,
                           statuses=statuses, limit=limit)

    def briefs(self, tokens: list[str]) -> list[Row]:
        return self.db.all("briefs_by_tokens", tokens=tokens)

    def transcript(self, token: str) -> Row | None:
        return self.db.one("transcript_by_token", token=token)

    def job_id(self, token: str) -> int | None:
        row = self.db.one("job_id_by_token", token=token)
        return row["id"] if row else None
