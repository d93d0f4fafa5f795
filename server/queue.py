"""Claiming, leases, heartbeats and fenced step completion.

A claim is one short transaction (FOR UPDATE SKIP LOCKED, commit). While a step runs, the
`Heartbeat` thread, not the step's thread, extends each lease; when an extension finds the
lease gone (expired and taken, or the job cancelled) it marks the lease, and the step's
next progress report raises. Every write that finishes a step names the lease owner, so a
worker that lost its lease writes nothing.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from server.db import Database
from server.core.failures import Cancelled, LeaseLost, ShuttingDown

log = logging.getLogger(__name__)


@dataclass
class Job:
    id: int
    video_id: int
    pipeline_step: str
    attempts: int
    max_attempts: int
    lease_owner: str
    priority: int
    token: str
    lease_s: float = 60.0


def claim(db: Database, steps: tuple[str, ...], limit: int, lease_s: float,
          job_id: int | None = None, step_lease_s: dict[str, float] | None = None) -> list[Job]:
    """One short transaction: lock the caps of capped steps (see `step_limits`), then
    claim up to `limit` jobs, never more of a capped step than its free slots."""
    if limit <= 0:
        return []
    leases = {s: (step_lease_s or {}).get(s, lease_s) for s in steps}
    with db.tx() as tx:
        tx.all("lock_step_limits", steps=list(steps))
        rows = tx.all("claim", steps=list(steps), limit=limit, lease_s=lease_s, job_id=job_id,
                      lease_steps=list(leases), lease_secs=list(leases.values()))
    return [Job(**{**r, "lease_owner": str(r["lease_owner"]), "lease_s": leases[r["pipeline_step"]]})
            for r in rows]


@dataclass
class Lease:
    job: Job
    progress: float = 0.0
    state: str = "held"          # held, finishing, lost, cancelled, shutdown
    last_beat: float = field(default_factory=time.monotonic)

    def report(self, progress: float) -> None:
        """The step's progress callback: records progress and stops the step when the
        lease is gone."""
        self.progress = max(0.0, min(1.0, float(progress)))
        self.check()

    def check(self) -> None:
        if self.state == "lost":
            raise LeaseLost(f"lease on job {self.job.id} was lost")
        if self.state == "cancelled":
            raise Cancelled(f"job {self.job.id} was cancelled")
        if self.state == "shutdown":
            raise ShuttingDown(f"worker stopping; releasing job {self.job.id}")


class Heartbeat(threading.Thread):
    def __init__(self, db: Database, lease_s: float):
        """`lease_s`: the shortest lease this worker takes; it beats three times per lease."""
        super().__init__(name="heartbeat", daemon=True)
        self.db = db
        self.interval = max(0.1, min(lease_s / 3, 2.0))
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.paused = False      # tests freeze the heartbeat to simulate a stalled worker

    def add(self, lease: Lease) -> None:
        with self._lock:
            self._leases[lease.job.lease_owner] = lease

    def remove(self, lease: Lease) -> None:
        with self._lock:
            self._leases.pop(lease.job.lease_owner, None)

    def active(self) -> list[Lease]:
        with self._lock:
            return list(self._leases.values())

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.paused:
                self.beat()

    def beat(self) -> None:
        for lease in self.active():
            if lease.state != "held":
                continue
            try:
                ok = self.db.one("heartbeat", id=lease.job.id, owner=lease.job.lease_owner,
                                 lease_s=lease.job.lease_s, progress=lease.progress)
                if ok:
                    lease.last_beat = time.monotonic()
                    continue
                row = self.db.one("job_status", id=lease.job.id)
                if lease.state != "held":    # the step finished meanwhile: nothing was lost
                    continue
                lease.state = "cancelled" if row and row["status"] == "cancelled" else "lost"
                log.warning("lease %s on job %s: %s", lease.job.lease_owner, lease.job.token,
                            lease.state, extra={"job": lease.job.token, "step": lease.job.pipeline_step})
            except Exception:   # a database blip: try again next beat; expiry decides
                log.exception("heartbeat failed for job %s", lease.job.token)
                if time.monotonic() - lease.last_beat > lease.job.lease_s:
                    lease.state = "lost"
