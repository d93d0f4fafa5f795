"""The pg_cron schedule, against a real Postgres 15 with the Debian pg_cron package.

pg_net and Vault are Supabase extensions with no Debian package. The first test proves the
guard: with pg_cron present but pg_net absent, the migrations apply cleanly and schedule
nothing. The second installs stand-ins with pg_net's and Vault's signatures (a net.http_post
that records its call, a vault.decrypted_secrets table) so that the real pg_cron gets the
real schedule, and then runs the scheduled command to see the request it makes."""
from __future__ import annotations

import psycopg
import pytest

from server.db.migrate import migrate
from tests.support.system_services import postgres_with_pg_cron

JOB = "clips-perform-video-processing"


@pytest.fixture
def cron_pg():
    with postgres_with_pg_cron() as url:
        yield url


def test_without_pg_net_the_migrations_apply_and_schedule_nothing(cron_pg):
    assert migrate(cron_pg)
    with psycopg.connect(cron_pg) as c:
        assert c.execute("select extname from pg_extension where extname = 'pg_cron'").fetchone()
        assert c.execute("select count(*) from cron.job").fetchone()[0] == 0
    assert migrate(cron_pg) == []


STAND_INS = """
create schema net;
create table net.calls (url text, body jsonb, headers jsonb, timeout_milliseconds int);
create function net.http_post(url text, body jsonb default '{}', params jsonb default '{}',
                              headers jsonb default '{}', timeout_milliseconds int default 5000)
returns bigint language sql as $$
    insert into net.calls values (url, body, headers, timeout_milliseconds) returning 1::bigint
$$;
create schema vault;
create table vault.decrypted_secrets (name text primary key, decrypted_secret text);
insert into vault.decrypted_secrets values
    ('clips_server_url', 'https://clips.example.org'),
    ('clips_internal_api_token', 'secret-from-vault');
"""


def test_with_pg_net_and_vault_the_job_is_scheduled_and_posts_with_the_vault_token(cron_pg):
    with psycopg.connect(cron_pg, autocommit=True) as c:
        c.execute(STAND_INS)
    migrate(cron_pg)
    with psycopg.connect(cron_pg, autocommit=True) as c:
        jobs = c.execute("select jobname, schedule, command, database, active from cron.job").fetchall()
        assert len(jobs) == 1
        name, schedule, command, database, active = jobs[0]
        assert (name, schedule, database, active) == (JOB, "* * * * *", "postgres", True)
        assert "vault.decrypted_secrets" in command and "secret-from-vault" not in command
        c.execute(command)                       # what pg_cron runs every minute
        url, body, headers, timeout_ms = c.execute("select * from net.calls").fetchone()
        assert url == "https://clips.example.org/internal/perform-video-processing"
        assert headers["Authorization"] == "Bearer secret-from-vault"
        assert body == {} and timeout_ms == 5000
        # Applying the file again replaces the job by name instead of adding a second one.
        c.execute("delete from server_migrations where version like '%cron%'")
    migrate(cron_pg)
    with psycopg.connect(cron_pg) as c:
        assert c.execute("select count(*) from cron.job").fetchone()[0] == 1


def test_the_readme_command_schedules_the_job_after_the_extensions_and_secrets_arrive(cron_pg):
    """A project whose migrations ran before pg_net and the Vault secrets were there: the
    README's command re-runs the cron migration and the job appears."""
    import os
    import re
    import shutil
    import subprocess
    from tests.support import ROOT
    assert migrate(cron_pg)                                   # no pg_net yet: skipped
    with psycopg.connect(cron_pg, autocommit=True) as c:
        assert c.execute("select count(*) from cron.job").fetchone()[0] == 0
        c.execute(STAND_INS)                                  # extensions enabled, secrets set
    readme = (ROOT / "README.md").read_text()
    [command] = re.findall(r'^\s*(psql "\$DATABASE_URL" .*cron_schedule\.sql)\s*$', readme, re.M)
    psql = shutil.which("psql") or "/usr/lib/postgresql/15/bin/psql"
    r = subprocess.run(["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "DATABASE_URL": cron_pg,
                            "PATH": f"{os.path.dirname(psql)}:{os.environ['PATH']}"})
    assert r.returncode == 0, r.stderr
    with psycopg.connect(cron_pg) as c:
        assert c.execute("select jobname from cron.job").fetchall() == [(JOB,)]
