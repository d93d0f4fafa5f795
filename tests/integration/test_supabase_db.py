"""The supabase/ folder: migrations that apply on a fresh and on an applied database, row
level security that denies the PostgREST roles, and a config.toml that matches the server."""
from __future__ import annotations

import re
import secrets
import tomllib
from contextlib import contextmanager

import psycopg
import pytest

from tests.support import ROOT
from server.settings import load_settings
from server.db.migrate import MIGRATIONS_DIR, migrate

SUPABASE = ROOT / "supabase"
API_ROLES = ("anon", "authenticated")


@contextmanager
def fresh_database(admin_url: str):
    name = "fresh_" + secrets.token_hex(4)
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f"create database {name}")
    try:
        yield psycopg.conninfo.make_conninfo(admin_url, dbname=name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as c:
            c.execute(f"drop database {name} with (force)")


def apply_files(url: str, *paths) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        for path in paths:
            c.execute(path.read_text())


def test_migration_files_are_plain_sql_with_utc_timestamps():
    files = sorted(MIGRATIONS_DIR.glob("*"))
    assert files
    for path in files:
        assert re.fullmatch(r"\d{14}_[a-z0-9_]+\.sql", path.name), path.name
        assert path.name[:8] >= "20200101"
        meta = [l for l in path.read_text().splitlines() if l.lstrip().startswith("\\")]
        assert not meta, f"{path.name} has psql meta-commands: {meta}"


def test_migrations_apply_fresh_then_are_a_noop(database_url):
    versions = sorted(p.stem for p in MIGRATIONS_DIR.glob("*.sql"))
    with fresh_database(database_url) as url:
        assert migrate(url) == versions
        assert migrate(url) == []
        # The files themselves are idempotent: the Supabase CLI or an operator applying them
        # again to an applied database changes nothing and raises nothing.
        apply_files(url, *sorted(MIGRATIONS_DIR.glob("*.sql")), SUPABASE / "seed.sql")
        with psycopg.connect(url) as c:
            assert [r[0] for r in c.execute("select version from server_migrations order by 1")] == versions
            # Embedded/plain Postgres: no pg_cron, so no schedule and no cron schema.
            assert c.execute("select to_regnamespace('cron')").fetchone()[0] is None


def test_versions_recorded_by_the_supabase_cli_are_not_applied_again(database_url):
    with fresh_database(database_url) as url:
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("create schema supabase_migrations")
            c.execute("create table supabase_migrations.schema_migrations (version text primary key)")
            for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
                c.execute("insert into supabase_migrations.schema_migrations values (%s)",
                          (path.stem.split("_")[0],))
        assert migrate(url) == []
        with psycopg.connect(url) as c:
            assert c.execute("select to_regclass('public.videos')").fetchone()[0] is None


def _public_tables(conn) -> list[str]:
    return [r[0] for r in conn.execute("""select c.relname from pg_class c
                                          join pg_namespace n on n.oid = c.relnamespace
                                          where n.nspname = 'public' and c.relkind in ('r', 'p')
                                          order by 1""")]


def _as_role(url: str, role: str, sql: str):
    with psycopg.connect(url) as c:
        c.execute(f"set role {role}")
        return c.execute(sql).fetchall()


def test_rls_and_revokes_deny_anon_and_authenticated(database_url):
    with fresh_database(database_url) as url:
        with psycopg.connect(url, autocommit=True) as c:
            for role in API_ROLES:
                if not c.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                    c.execute(f"create role {role} nologin")
            # What a fresh Supabase project does: the API roles get every new table in public.
            c.execute("grant usage on schema public to anon, authenticated")
            c.execute("alter default privileges in schema public grant all on tables to anon, authenticated")
        migrate(url)
        with psycopg.connect(url, autocommit=True) as c:
            tables = _public_tables(c)
            assert {"videos", "video_processing_queue", "step_runs", "server_migrations"} <= set(tables)
            without_rls = c.execute("""select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                                       where n.nspname = 'public' and c.relkind in ('r', 'p')
                                       and not c.relrowsecurity""").fetchall()
            assert without_rls == []
            c.execute("""insert into videos (token, source_kind, source_url, source_fingerprint)
                         values ('t1', 'url', 'http://x/v', 'http://x/v')""")
            c.execute("insert into video_processing_queue (video_id) select id from videos")
            c.execute("create table public.added_later (id int)")   # default privileges revoked
        for role in API_ROLES:
            for table in tables + ["added_later"]:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    _as_role(url, role, f"select * from public.{table}")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with psycopg.connect(url) as c:
                    c.execute(f"set role {role}")
                    c.execute("""insert into videos (token, source_kind, source_url, source_fingerprint)
                                 values ('t2', 'url', 'http://x/w', 'http://x/w')""")
        # Even a grant made by mistake later exposes nothing: RLS has no policy to pass.
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("grant select on videos, video_processing_queue to anon")
        assert _as_role(url, "anon", "select * from videos") == []
        assert _as_role(url, "anon", "select * from video_processing_queue") == []
        with psycopg.connect(url) as c:
            assert c.execute("select count(*) from videos").fetchone()[0] == 1   # the owner sees it


def test_config_toml_matches_the_server():
    cfg = tomllib.loads((SUPABASE / "config.toml").read_text())
    assert cfg["project_id"]
    assert "public" in cfg["api"]["schemas"]
    assert cfg["db"]["major_version"] == 17          # what Supabase runs
    assert cfg["db"]["seed"]["sql_paths"] == ["./seed.sql"]
    bucket = cfg["storage"]["buckets"][load_settings().supabase_bucket]
    assert bucket["public"] is False            # clients get signed URLs
    allowed = bucket["allowed_mime_types"]
    for mime in ("video/mp4", "image/jpeg", "application/octet-stream"):   # what the server puts
        assert mime in allowed or mime.split("/")[0] + "/*" in allowed
    units = {"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
    size = lambda s: int(s[:-3]) * units[s[-3:]]   # noqa: E731
    assert size(bucket["file_size_limit"]) <= size(cfg["storage"]["file_size_limit"])
    assert size(bucket["file_size_limit"]) >= load_settings().max_upload_bytes
