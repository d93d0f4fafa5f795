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
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
_LOCK_ID = 815_422_001


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
