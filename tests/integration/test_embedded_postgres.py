"""The embedded Postgres under a new DATA_DIR, when another process creates its folder at
the worst moment (issue 11, item 17, made certain rather than left to timing)."""
from __future__ import annotations

from pathlib import Path

import psycopg

from server.db import resolve_database_url
from server.db import embedded


def test_the_folder_appearing_between_check_and_create_is_harmless(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    pgdata = data_dir / "postgres"
    real_exists = Path.exists

    def racing_exists(self, *args, **kwargs):
        """Another process creates the folder just after this one found it missing."""
        if self == pgdata and not real_exists(self):
            self.mkdir(parents=True)
            return False
        return real_exists(self, *args, **kwargs)

    monkeypatch.setattr(Path, "exists", racing_exists)
    try:
        url = resolve_database_url("", data_dir)
        with psycopg.connect(url) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        monkeypatch.undo()
        embedded.stop(data_dir)
