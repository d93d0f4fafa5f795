"""The connector against a database that is not there: the first call finds out from the
pool's failed connection attempts (not after the pool's whole timeout), and the calls
after it fail at once until a probe finds the database back."""
from __future__ import annotations

import socket

import pytest

from server.core.failures import StoreUnavailable
from server.db import Database


def dead_url() -> str:
    with socket.socket() as s:               # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def test_a_dead_database_raises_store_unavailable_and_then_fails_fast():
    db = Database(dead_url(), pool_size=2)
    try:
        with pytest.raises(StoreUnavailable):
            db.one("health")
        assert db.outage.down_since is not None
        assert db._connect_errors() >= 1         # what told the caller: the pool's own count
        with pytest.raises(StoreUnavailable):
            db.one("health")
    finally:
        db.close()


def test_queries_that_fail_for_other_reasons_do_not_open_the_breaker(clean_db):
    db = Database(clean_db, pool_size=2)
    try:
        with pytest.raises(Exception) as e, db.tx() as tx:
            tx.conn.execute("select 1/0")
        assert not isinstance(e.value, StoreUnavailable)
        assert db.outage.down_since is None and db.one("health") == {"ok": 1}
    finally:
        db.close()
