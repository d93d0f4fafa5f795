"""A pooled connection that the server (or a pooler such as Supavisor or pgbouncer) closed
while it sat idle is noticed and replaced before a query uses it."""
from __future__ import annotations

import psycopg

from server.db import Database


def test_a_connection_closed_while_idle_is_replaced(database_url):
    db = Database(database_url, pool_size=1)
    try:
        with db.tx() as tx:
            pid = tx.conn.execute("select pg_backend_pid() as pid").fetchone()["pid"]
        with psycopg.connect(database_url, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", (pid,))
        with db.tx() as tx:                 # the same pool slot: checked, found dead, replaced
            again = tx.conn.execute("select pg_backend_pid() as pid").fetchone()["pid"]
        assert again != pid
    finally:
        db.close()
