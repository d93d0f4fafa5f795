"""The API keys' store: `api_keys` and the quotas' ledger `api_key_charges`. The only
module that issues their queries. `charge` runs inside another store's transaction (a
submission, a download's checkpoint), so a charge stands or falls with what it pays for."""
from __future__ import annotations

from server.core.keys import Limits
from server.core.stores import QuotaExceeded, Row, no_room
from server.db import Database, Tx


def charge(tx: Tx, *, key_id: int, video_id: int, videos: int, source_s: float | None,
           defaults: Limits, require_minutes: bool = False) -> None:
    """Charges a video (`videos`=1) and/or its source seconds to the key, once each per
    video, then checks the day's totals: past a quota it raises QuotaExceeded and the
    caller's transaction rolls the charge back. `require_minutes`: refuse when no source
    minute is left today (a URL, whose length is not known yet)."""
    limits = tx.one("lock_api_key", key_id=key_id, videos_default=defaults.videos_per_day,
                    minutes_default=defaults.source_minutes_per_day)
    assert limits is not None, f"no API key {key_id}"
    added = []
    for what, amount in (("video", videos or None), ("source_seconds", source_s)):
        if amount is not None:
            added.append(tx.one("add_key_charge", video_id=video_id, what=what, key_id=key_id,
                                amount=amount))
    if not any(added) and not require_minutes:
        return                  # charged before (an upload at its submission)
    used = tx.one("key_usage_today", key_id=key_id)
    assert used is not None
    wait = used["day_left_s"]
    videos_limit, seconds_limit = limits["videos_limit"], limits["seconds_limit"]
    if videos_limit and used["videos"] > videos_limit:
        raise QuotaExceeded("videos", videos_limit, 0, None, wait)
    if seconds_limit and (used["seconds"] > seconds_limit
                          or (require_minutes and used["seconds"] >= seconds_limit)):
        left = seconds_limit - (used["seconds"] - (source_s or 0))
        raise QuotaExceeded("minutes", seconds_limit / 60, left / 60,
                            None if source_s is None else source_s / 60, wait)


class PgKeys:
    def __init__(self, db: Database):
        self.db = db

    def create(self, *, name: str, prefix: str, key_hash: str, webhook_secret: str,
               rate_per_min: float | None, videos_per_day: int | None,
               source_minutes_per_day: float | None) -> Row | None:
        return self.db.one("create_api_key", key_name=name, prefix=prefix, key_hash=key_hash,
                           webhook_secret=webhook_secret, rate_per_min=rate_per_min,
                           videos_per_day=videos_per_day,
                           source_minutes_per_day=source_minutes_per_day)

    def all(self) -> list[Row]:
        return self.db.all("list_api_keys")

    def revoke(self, name: str) -> bool:
        return self.db.one("revoke_api_key", key_name=name) is not None

    def rotate(self, name: str, *, prefix: str, key_hash: str, grace_s: float) -> bool:
        return self.db.one("rotate_api_key", key_name=name, prefix=prefix, key_hash=key_hash,
                           grace_s=grace_s) is not None

    def set_webhook_secret(self, name: str, secret: str) -> bool:
        return self.db.one("set_webhook_secret", key_name=name, secret=secret) is not None

    def take(self, key_hash: str, default_rate: float) -> Row | None:
        """One UPDATE per request: its commit skips the WAL flush, since a rate state lost
        in a crash only lets a few requests through again (it roughly halved the cost of a
        keyed request in scripts/bench_platform.py)."""
        with self.db.tx() as tx:
            tx.run("relaxed_commit")
            return tx.one("take_key_request", key_hash=key_hash, default_rate=default_rate)

    def refusal(self, key_hash: str, default_rate: float) -> Row | None:
        return self.db.one("key_refusal", key_hash=key_hash, default_rate=default_rate)

    def room_today(self, key_id: int, defaults: Limits) -> None:
        with self.db.tx() as tx:
            limits = tx.one("lock_api_key", key_id=key_id, videos_default=defaults.videos_per_day,
                            minutes_default=defaults.source_minutes_per_day)
            used = tx.one("key_usage_today", key_id=key_id)
        assert limits is not None and used is not None, f"no API key {key_id}"
        refused = no_room(limits, used)
        if refused is not None:
            raise refused
