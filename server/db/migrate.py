"""Applies `supabase/migrations/*.sql` that this database has not seen, in name order.

The same files are what the Supabase CLI applies, so one schema serves both. Applied
versions are recorded in `server_migrations`; an advisory lock lets many processes start
at once without applying anything twice.
"""
from __future__ import annotations

import logging
from pathlib import Path

import psycopg

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "supabase" / "migrations"
_LOCK_ID = 815_422_001


def migrate(url: str, migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    applied_now: list[str] = []
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        conn.execute("select pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute("""create table if not exists public.server_migrations (
                                version text primary key,
                                applied_at timestamptz not null default now())""")
            conn.execute("alter table public.server_migrations enable row level security")
            done = {r[0] for r in conn.execute("select version from public.server_migrations")}
            for path in sorted(migrations_dir.glob("*.sql")):
                version = path.stem
                if version in done:
                    continue
                with conn.transaction():
                    conn.execute(path.read_text())
                    conn.execute("insert into public.server_migrations (version) values (%s)",
                                 (version,))
                log.info("applied migration %s", version)
                applied_now.append(version)
        finally:
            conn.execute("select pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now
