"""The webhooks' store: `webhook_deliveries` (one row per event, recorded with its job by
the trigger of migration 20261215000000) and `webhook_attempts` (one row per attempt, with
the receiver's status code). The only module that issues their queries."""
from __future__ import annotations

from server.core.stores import Row
from server.db import Database


class PgWebhooks:
    def __init__(self, db: Database):
        self.db = db

    def delivery(self, delivery_id: int) -> Row | None:
        return self.db.one("webhook_delivery", id=delivery_id)

    def keep_body(self, delivery_id: int, body: str) -> str:
        kept = self.db.one("keep_webhook_body", id=delivery_id, body=body)
        if kept is not None:
            return kept["body"]
        row = self.delivery(delivery_id)         # an earlier attempt stored it
        assert row is not None and row["body"] is not None
        return row["body"]

    def start_attempt(self, delivery_id: int, attempt: int) -> int:
        row = self.db.one("start_webhook_attempt", delivery_id=delivery_id, attempt=attempt)
        assert row is not None
        return row["id"]

    def finish_attempt(self, attempt_id: int, status_code: int | None, error: str | None) -> None:
        self.db.run("finish_webhook_attempt", id=attempt_id, status_code=status_code, error=error)

    def of_videos(self, video_ids: list[int]) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {v: [] for v in video_ids}
        for row in self.db.all("webhook_deliveries_of_videos", video_ids=video_ids):
            out[row["video_id"]].append(row)
        return out
