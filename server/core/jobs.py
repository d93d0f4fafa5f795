"""A claimed job and the lease its worker holds on it, as the use-case layer sees them."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from server.core.failures import Cancelled, LeaseLost, ShuttingDown


@dataclass
class Job:
    id: int
    kind: str
    video_id: int | None          # set for kinds about a video
    pipeline_step: str
    attempts: int
    max_attempts: int
    lease_owner: str
    priority: int
    token: str                    # the handle its client follows
    payload: dict = field(default_factory=dict)     # the kind's arguments
    lease_s: float = 60.0


@dataclass
class Lease:
    """A worker's hold on one claimed job. The heartbeat thread extends it in the
    database and marks it when it is gone; the step learns that at its next progress
    report, which raises."""
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
