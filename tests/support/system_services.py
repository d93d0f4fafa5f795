"""Throwaway system services for tests: a Postgres 15 cluster with pg_cron, and pgbouncer.

Both come from Debian packages that `scripts/setup.sh` installs. Neither runs as root, so
when the tests run as root they start them as the `postgres` user."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from scripts.live_server import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_service_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


@contextmanager
def _service_dir(prefix: str):
    """A directory under /tmp the service user can reach (pytest's tmp_path sits below
    root-only directories when the tests run as root)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _own(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _wait_for(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _check(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr or r.stdout}")


def require(path: Path | str, package: str) -> str:
    found = shutil.which(str(path)) or (str(path) if Path(path).exists() else None)
    if not found:
        pytest.fail(f"{path} is missing: install {package} (scripts/setup.sh does)")
    return found


@contextmanager
def postgres_with_pg_cron():
    """A Postgres 15 cluster on a free port with pg_cron preloaded; yields its URL."""
    require(PG_BIN / "initdb", "postgresql-15")
    require("/usr/lib/postgresql/15/lib/pg_cron.so", "postgresql-15-cron")
    with _service_dir("clips-pg-") as workdir:
        yield from _run_cluster(workdir)


def _run_cluster(workdir: Path):
    data, port = workdir / "data", free_port()
    _check(_as_service_user([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                             "--auth=trust", "-E", "UTF8"]))
    opts = (f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 "
            "-c shared_preload_libraries=pg_cron -c cron.database_name=postgres")
    _check(_as_service_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts,
                             "-l", str(workdir / "log"), "-w", "start"]))
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        _wait_for(url)
        yield url
    finally:
        subprocess.run(_as_service_user([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                         "stop"]), capture_output=True)


@contextmanager
def pgbouncer(upstream_url: str):
    """pgbouncer in transaction mode in front of upstream_url (trust auth); yields the URL
    that clients use. Like Supabase's transaction pooler, a server connection goes back to
    the pool after every transaction, so session state and prepared statements do not last."""
    binary = require("pgbouncer", "pgbouncer")
    with _service_dir("clips-pgbouncer-") as workdir:
        yield from _run_pgbouncer(binary, workdir, upstream_url)


def _run_pgbouncer(binary: str, workdir: Path, upstream_url: str):
    info = psycopg.conninfo.conninfo_to_dict(upstream_url)
    port = free_port()
    (workdir / "users.txt").write_text(f'"{info.get("user", "postgres")}" ""\n')
    (workdir / "pgbouncer.ini").write_text(f"""[databases]
{info["dbname"]} = host={info.get("host", "127.0.0.1")} port={info.get("port", 5432)} dbname={info["dbname"]}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir / "users.txt"}
pool_mode = transaction
default_pool_size = 4
max_client_conn = 100
logfile = {workdir / "pgbouncer.log"}
""")
    for name in ("users.txt", "pgbouncer.ini"):
        _own(workdir / name)
    proc = subprocess.Popen(_as_service_user([binary, str(workdir / "pgbouncer.ini")]),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"postgresql://{info.get('user', 'postgres')}@127.0.0.1:{port}/{info['dbname']}"
    try:
        _wait_for(url, timeout_s=15)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
