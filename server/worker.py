"""Runs claimed jobs: one step after another while this worker serves the next step.

The same `Worker` drives `python -m server worker` (a loop that claims whenever a slot is
free) and `/internal/perform-video-processing` (one claim per request, run in the
background of the web process). What happens to one job is `server.usecases.work`; this
module keeps the threads: the step pool, and the `Heartbeat` that extends each lease from
its own thread, not the step's. SIGTERM stops claiming, lets running steps finish within a
grace period, then releases their leases so another worker resumes at once.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from server.core.jobs import Job, Lease
from server.core.steps import Step
from server.pipeline import audio, noop, webhook
from server.pipeline import steps as real
from server.pipeline.context import StepImpl
from server.services import Services
from server.usecases import work

log = logging.getLogger(__name__)

PIPELINES: dict[str, dict[Step, StepImpl]] = {"real": {**real.STEPS, **audio.STEPS, **webhook.STEPS},
                                              "noop": {**noop.STEPS, **webhook.STEPS}}
PRUNE_EVERY_S = 600.0


class Heartbeat(threading.Thread):
    def __init__(self, services: Services, lease_s: float):
        """`lease_s`: the shortest lease this worker takes; it beats three times per lease."""
        super().__init__(name="heartbeat", daemon=True)
        self.jobs = services.jobs
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
                if self.jobs.heartbeat(lease.job, lease.progress):
                    lease.last_beat = time.monotonic()
                    continue
                status = self.jobs.status_of(lease.job.id)
                if lease.state != "held":    # the step finished meanwhile: nothing was lost
                    continue
                lease.state = "cancelled" if status == "cancelled" else "lost"
                log.warning("lease %s on job %s: %s", lease.job.lease_owner, lease.job.token,
                            lease.state, extra={"job": lease.job.token, "step": lease.job.pipeline_step})
            except Exception:   # a database blip: try again next beat; expiry decides
                log.exception("heartbeat failed for job %s", lease.job.token)
                if time.monotonic() - lease.last_beat > lease.job.lease_s:
                    lease.state = "lost"


class Worker:
    def __init__(self, services: Services, steps: tuple[str, ...] | None = None,
                 concurrency: int | None = None, worker_id: str | None = None,
                 pipeline: str = "real"):
        cfg = services.cfg
        self.services = services
        self.steps = tuple(steps or cfg.worker_steps)
        unknown = set(self.steps) - set(Step)
        if unknown:
            raise ValueError(f"unknown steps: {', '.join(sorted(unknown))}")
        self.step_impls = PIPELINES[pipeline]
        self.concurrency = concurrency or cfg.worker_concurrency
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stopping = threading.Event()
        self.heartbeat = Heartbeat(services, min(cfg.lease_for(s) for s in self.steps))
        self.heartbeat.start()
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="step")
        self._active = 0
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self.rng = random.Random()

    # -- dispatching ---------------------------------------------------------------------
    def free_slots(self) -> int:
        with self._lock:
            return self.concurrency - self._active

    def claim_and_dispatch(self, limit: int | None = None, job_id: int | None = None) -> list[Job]:
        """Claim up to the free slots (or `limit`) and run them in the background."""
        if self.stopping.is_set():
            return []
        n = self.free_slots() if limit is None else min(limit, self.free_slots())
        jobs = work.claim(self.services, self.steps, n, job_id=job_id)
        for job in jobs:
            with self._lock:
                self._active += 1
            self._pool.submit(self._run_chain, job)
        return jobs

    def run_forever(self, poll_s: float | None = None) -> None:
        poll_s = poll_s if poll_s is not None else self.services.cfg.poll_interval_s
        log.info("worker %s serving %s with %d slots", self.worker_id, ",".join(self.steps),
                 self.concurrency)
        last_prune = -PRUNE_EVERY_S
        while not self.stopping.is_set():
            try:
                if time.monotonic() - last_prune >= PRUNE_EVERY_S:
                    last_prune = time.monotonic()
                    self.prune_history()
                jobs = self.claim_and_dispatch()
            except Exception:    # the database is down: keep the worker alive and retry
                log.exception("claim failed")
                jobs = []
            if not jobs:
                with self._idle:   # wake early when a slot frees up
                    self._idle.wait(poll_s)

    def prune_history(self) -> int:
        """Deletes finished attempts older than STEP_RUNS_RETENTION_DAYS (the metrics'
        totals are kept apart and never pruned)."""
        return self.services.jobs.prune_history(self.services.cfg.step_runs_retention_days)

    def wait_idle(self, timeout: float | None = None) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._active == 0, timeout)

    def shutdown(self, grace_s: float = 30.0) -> None:
        """Stop claiming; give running steps `grace_s` to finish; then make them release."""
        self.stopping.set()
        if not self.wait_idle(grace_s):
            for lease in self.heartbeat.active():
                lease.state = "shutdown"
            self.wait_idle(5.0)
        # A step stuck in native code never reaches a progress report: release its lease
        # here; its later writes are fenced out.
        for lease in self.heartbeat.active():
            self.services.jobs.release(lease.job)
        self.heartbeat.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- running -------------------------------------------------------------------------
    def _run_chain(self, job: Job | None) -> None:
        try:
            while job is not None:
                following = self.run_step(job)
                if following in self.steps and not self.stopping.is_set():
                    claimed = work.claim(self.services, self.steps, 1, job_id=job.id)
                    job = claimed[0] if claimed else None
                else:
                    job = None
        except Exception:
            log.exception("job chain crashed")   # never let a job take the worker down
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def run_step(self, job: Job) -> str | None:
        """Run one claimed step under a lease this worker's heartbeat keeps alive."""
        lease = Lease(job)
        self.heartbeat.add(lease)
        try:
            return work.run_step(self.services, job, lease, self.step_impls, self.worker_id,
                                 self.rng)
        finally:
            self.heartbeat.remove(lease)
