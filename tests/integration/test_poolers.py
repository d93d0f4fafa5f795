"""Through a transaction pooler: pgbouncer in transaction mode (what Supabase's port 6543
is) in front of a real Postgres. Migrations, the API, the queue and every step run through
it with prepared statements disabled."""
from __future__ import annotations

import psycopg
import pytest

from tests.support import copy_to
from server import create_app
from server.db import Database
from tests.support.system_services import pgbouncer, postgres_with_pg_cron
from tests.support.pipeline_checks import run_through_api


@pytest.fixture(scope="module")
def pooled_url():
    with postgres_with_pg_cron() as direct, pgbouncer(direct) as pooled:
        yield pooled


@pytest.mark.parametrize("transaction_pooler", [False, True])
def test_database_setting_for_the_transaction_pooler(pooled_url, transaction_pooler):
    """Database runs a named query often enough for psycopg to prepare it; then another
    client holds the server connection it used, so its next transaction lands on another
    server connection, where nothing was prepared. Only with transaction_pooler=True
    does that work."""
    db = Database(pooled_url, pool_size=1, transaction_pooler=transaction_pooler)
    try:
        for _ in range(8):                   # past psycopg's default prepare threshold of 5
            assert db.one("health") == {"ok": 1}
        with psycopg.connect(pooled_url) as other, other.transaction():
            other.execute("select pg_backend_pid()")
            if transaction_pooler:
                assert db.one("health") == {"ok": 1}
            else:
                with pytest.raises(psycopg.errors.InvalidSqlStatementName):
                    db.one("health")
    finally:
        db.close()


def test_whole_queue_runs_through_the_transaction_pooler(pooled_url, app_config, media_server,
                                                          media_dir, tiny_video):
    app = create_app({**app_config, "database_url": pooled_url, "db_transaction_pooler": True})
    try:
        body = run_through_api(app.test_client(), media_server.url(copy_to(media_dir, tiny_video)))
        assert body["pipeline_step"] == "done"
        assert [s["state"] for s in body["steps"]] == ["done"] * 5
        with psycopg.connect(pooled_url) as c:
            runs = c.execute("select step, outcome from step_runs order by id").fetchall()
        assert runs == [(s, "succeeded") for s in ("download", "transcribe", "classify", "find_clips", "render")]
    finally:
        worker = app.extensions.get("worker")
        if worker is not None:
            worker.shutdown(grace_s=5)
        app.extensions["services"].db.close()
