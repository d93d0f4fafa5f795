"""What the Supabase dashboard shows operators: `operator_jobs`, one row per job with who
runs it, kept from the API roles; and a comment on every table, view and column."""
from __future__ import annotations

import psycopg
import pytest

from server.db import Database
from server.db.migrate import migrate
from server.db.checkpoints import PgCheckpoints
from server.db.jobs import PgJobs
from tests.integration.test_supabase_db import API_ROLES, fresh_database


def _supabase_like(url: str) -> None:
    """The API roles as a fresh Supabase project has them: usage on public, and every new
    table and view granted to them by default."""
    with psycopg.connect(url, autocommit=True) as c:
        for role in API_ROLES:
            if not c.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
                c.execute(f"create role {role} nologin")
        c.execute("grant usage on schema public to anon, authenticated")
        c.execute("alter default privileges in schema public grant all on tables to anon, authenticated")


def _submit(conn, token: str, title: str) -> int:
    vid = conn.execute("""insert into videos (token, source_kind, source_url, source_fingerprint, title)
                          values (%s, 'url', 'http://x/' || %s, 'http://x/' || %s, %s)
                          returning id""", (token, token, token, title)).fetchone()[0]
    conn.execute("insert into video_processing_queue (video_id) values (%s)", (vid,))
    return vid


def test_one_row_per_job_with_the_worker_holding_it(database_url):
    with fresh_database(database_url) as url:
        migrate(url)
        with psycopg.connect(url, autocommit=True) as c:
            _submit(c, "tok-run", "running talk")
            _submit(c, "tok-wait", "waiting talk")
            failed = _submit(c, "tok-fail", "broken talk")
            c.execute("""update video_processing_queue set status = 'failed', failure_cause = 'not_found',
                             failure_details = 'the source answered 404', finished_at = now()
                         where video_id = %s""", (failed,))
        db = Database(url, pool_size=1)
        try:
            jobs = PgJobs(db, PgCheckpoints(db).writer)
            [job] = jobs.claim(("download",), limit=1, lease_s=60, step_lease_s={})
            jobs.start_attempt(job, "gpu-host-1:4242")
        finally:
            db.close()
        with psycopg.connect(url) as c:
            rows = {r[0]: r for r in c.execute(
                """select token, title, status, step, progress, attempts, last_failure, worker,
                          age >= interval '0' from operator_jobs""")}
        assert len(rows) == 3
        running = rows[job.token]
        assert running[2:6] == ("running", "download", 0, 1) and running[7] == "gpu-host-1:4242"
        waiting = rows["tok-wait" if job.token == "tok-run" else "tok-run"]
        assert waiting[2] == "queued" and waiting[7] is None
        assert rows["tok-fail"][2] == "failed" and rows["tok-fail"][6] == "not_found"
        assert all(r[8] for r in rows.values())


def test_the_view_is_kept_from_the_api_roles(database_url):
    with fresh_database(database_url) as url:
        _supabase_like(url)
        migrate(url)
        with psycopg.connect(url, autocommit=True) as c:
            options = c.execute("select reloptions from pg_class where relname = 'operator_jobs'").fetchone()[0]
            assert "security_invoker=true" in options
            _submit(c, "tok", "talk")
        for role in API_ROLES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                with psycopg.connect(url) as c:
                    c.execute(f"set role {role}")
                    c.execute("select * from operator_jobs")
        # A grant made by mistake still shows nothing: the view runs as the caller, and RLS
        # on the tables under it has no policy for anon.
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("grant select on operator_jobs, videos, video_processing_queue, step_runs to anon")
        with psycopg.connect(url) as c:
            c.execute("set role anon")
            assert c.execute("select * from operator_jobs").fetchall() == []


def test_every_table_view_and_column_explains_itself(database_url):
    with fresh_database(database_url) as url:
        migrate(url)
        with psycopg.connect(url) as c:
            bare_relations = c.execute(
                """select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                   where n.nspname = 'public' and c.relkind in ('r', 'p', 'v')
                     and obj_description(c.oid, 'pg_class') is null order by 1""").fetchall()
            bare_columns = c.execute(
                """select c.relname || '.' || a.attname from pg_class c
                   join pg_namespace n on n.oid = c.relnamespace
                   join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                   where n.nspname = 'public' and c.relkind in ('r', 'p', 'v')
                     and col_description(c.oid, a.attnum) is null order by 1""").fetchall()
        assert bare_relations == [] and bare_columns == [], \
            "add `comment on` for these in a migration: " + ", ".join(r[0] for r in bare_relations + bare_columns)
