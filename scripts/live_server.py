"""`python -m server serve` in a subprocess, for the tests and benchmarks that need the
real HTTP edge (gunicorn, its event loop, real sockets) rather than Flask's test client."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    port: int
    proc: subprocess.Popen
    output: str = ""         # what the server printed, once it has stopped

    def worker_processes(self) -> list[psutil.Process]:
        """gunicorn's workers (the master's children)."""
        return psutil.Process(self.proc.pid).children()


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"the server exited with {proc.returncode}:\n{output}")
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url}/healthz did not answer within {timeout_s:.0f} s")


def stop(proc: subprocess.Popen, timeout_s: float = 60.0) -> str:
    """SIGTERM (unless already sent), then SIGKILL if it lingers; returns what the process
    printed."""
    if proc.poll() is None and not getattr(proc, "terminating", False):
        proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out or ""


def server_env(data_dir: Path, port: int, database_url: str | None = None, **settings: str) -> dict:
    """Development settings: local URLs allowed, no rate limits, quiet logs."""
    env = {**os.environ, "DATA_DIR": str(data_dir), "BIND": f"127.0.0.1:{port}",
           "ALLOW_PRIVATE_URLS": "1", "ACCESS_LOG": "0",
           "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
           "RATE_LIMIT_SUBMIT_PER_MIN": "0", "RATE_LIMIT_STATUS_PER_MIN": "0", **settings}
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@contextmanager
def live_server(data_dir: Path, database_url: str | None = None, **settings: str) -> Iterator[LiveServer]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server", "serve"], cwd=ROOT,
                            env=server_env(data_dir, port, database_url, **settings),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    server = LiveServer(url, port, proc)
    try:
        wait_healthy(url, proc)
        yield server
    finally:
        server.output = stop(proc)
    assert proc.returncode == 0, server.output

