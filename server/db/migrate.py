"""Applies `supabase/migrations/*.sql` that this database has not seen, in name order.

The same files are what the Supabase CLI applies, so one schema serves both. Applied
versions are recorded in `server_migrations`; a version the Supabase CLI already recorded
(`supabase_migrations.schema_migrations`, keyed by the timestamp prefix) counts as applied
too, so `supabase db push` and the server's start-up coexist. Every file is idempotent as
well, so applying one twice is harmless. An advisory lock lets many processes start at
once without applying anything twice.
"""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

import psycopg

from server.db.outage import means_outage

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
_LOCK_ID = 815_422_001
# What a server says when it refuses a connection for now, not for good (libpq reports
# refusals at connect time without a SQLSTATE, so the words are what there is).
_FOR_NOW = ("starting up", "shutting down", "in recovery", "too many clients",
            "remaining connection slots")


def migrate(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Applies every pending file in one transaction under a transaction-level advisory
    lock: a transaction pooler keeps one server connection for a whole transaction, so
    this is safe through Supabase's port 6543 too (a session lock would not be: its unlock
    could reach another server connection). All pending files apply, or none."""
    applied_now: list[str] = []
    with psycopg.connect(url, prepare_threshold=None) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(%s)", (_LOCK_ID,))
        conn.execute("""create table if not exists public.server_migrations (
                            version text primary key,
                            applied_at timestamptz not null default now())""")
        conn.execute("alter table public.server_migrations enable row level security")
        done = {r[0] for r in conn.execute("select version from public.server_migrations")}
        by_cli = set()
        if (conn.execute("select to_regclass('supabase_migrations.schema_migrations')").fetchone() or [None])[0]:
            by_cli = {r[0] for r in conn.execute(
                "select version from supabase_migrations.schema_migrations")}
        for path in sorted(migrations_dir.glob("*.sql")):
            version = path.stem
            if version in done or version.split("_", 1)[0] in by_cli:
                continue
            conn.execute(path.read_text())
            conn.execute("insert into public.server_migrations (version) values (%s)", (version,))
            applied_now.append(version)
    for version in applied_now:
        log.info("applied migration %s", version)
    return applied_now


def not_there_yet(e: BaseException) -> bool:
    """Whether a failed connection may work in a moment: nothing answered (a container
    started before Postgres, a restart, a pooler's blip), or the server said so. A server
    that answers and refuses (FATAL: no such role, wrong password, no such database) will
    refuse again."""
    if not means_outage(e):
        return False
    said = str(e)
    return "FATAL:" not in said or any(words in said for words in _FOR_NOW)


def migrate_when_reachable(url: str, wait_s: float, sleep: Callable[[float], None] = time.sleep,
                           clock: Callable[[], float] = time.monotonic) -> list[str]:
    """`migrate`, waiting up to `wait_s` seconds, with a log line a try, for a database
    that is not there yet; any other failure raises at once."""
    deadline, delay, tries = clock() + wait_s, 0.5, 1
    while True:
        try:
            applied = migrate(url)
            if tries > 1:
                log.info("the database answered after %d tries", tries)
            return applied
        except psycopg.OperationalError as e:
            if not not_there_yet(e) or clock() + delay > deadline:
                raise
            first_line = (str(e).strip().splitlines() or [type(e).__name__])[0]
            log.warning("waiting for the database (try %d: %s); next try in %.1f s, giving up "
                        "%.0f s after the first (DB_STARTUP_WAIT_SECONDS)", tries, first_line,
                        delay, wait_s)
            sleep(delay)
            delay, tries = min(delay * 2, 5.0), tries + 1
