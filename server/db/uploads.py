"""The resumable uploads' store: `uploads` and `upload_chunks`. The only module that
issues their queries."""
from __future__ import annotations

from server.core.stores import Row
from server.db import Database


class PgUploads:
    def __init__(self, db: Database):
        self.db = db

    def create(self, upload_id: str, filename: str, size: int, api_key_id: int | None = None) -> None:
        self.db.run("create_upload", id=upload_id, filename=filename, size_bytes=size,
                    api_key_id=api_key_id)

    def get(self, upload_id: str) -> Row | None:
        return self.db.one("upload_by_id", id=upload_id)

    def record_chunk(self, upload_id: str, start: int, end: int) -> None:
        self.db.run("record_chunk", upload_id=upload_id, start_byte=start, end_byte=end)

    def ranges(self, upload_id: str) -> list[tuple[int, int]]:
        return [(r["start_byte"], r["end_byte"]) for r in self.db.all("upload_ranges", upload_id=upload_id)]

    def start_completing(self, upload_id: str) -> bool:
        """Only one request may turn an upload into a job."""
        return self.db.one("start_completing_upload", id=upload_id) is not None

    def reopen(self, upload_id: str) -> None:
        self.db.run("reopen_upload", id=upload_id)

    def finish(self, upload_id: str, token: str) -> None:
        self.db.run("finish_upload", id=upload_id, token=token)
