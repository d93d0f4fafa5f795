"""Runs claimed jobs: one step after another while this worker serves the next step.

The same `Worker` drives `python -m server worker` (a loop that claims whenever a slot is
free) and `/internal/perform-video-processing` (one claim per request, run in the
background of the web process). SIGTERM stops claiming, lets running steps finish within
a grace period, then releases their leases so another worker resumes at once.
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

from server.core.failures import Cancelled, LeaseLost, ShuttingDown, backoff_s, classify
from server.pipeline import noop
from server.core.steps import STEPS, next_step
from server.pipeline import steps as real
from server.queue import Heartbeat, Job, Lease, claim
from server.services import Services

log = logging.getLogger(__name__)

PIPELINES = {"real": real.STEPS, "noop": noop.STEPS}
# Steps whose checkpoint an earlier submission of the same source can lend us.
REUSABLE = {"download": "reuse_media", "transcribe": "reuse_transcript"}
PRUNE_EVERY_S = 600.0


class Worker:
    def __init__(self, services: Services, steps: tuple[str, ...] | None = None,
                 concurrency: int | None = None, worker_id: str | None = None,
                 pipeline: str = "real"):
        cfg = services.cfg
        self.services = services
        self.db = services.db
        self.steps = tuple(steps or cfg.worker_steps)
        unknown = set(self.steps) - set(STEPS)
        if unknown:
            raise ValueError(f"unknown steps: {', '.join(sorted(unknown))}")
        self.step_impls = PIPELINES[pipeline]
        self.concurrency = concurrency or cfg.worker_concurrency
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.lease_s = cfg.lease_s
        self.step_lease_s = {s: cfg.lease_for(s) for s in self.steps}
        self.stopping = threading.Event()
        self.heartbeat = Heartbeat(self.db, min(self.step_lease_s.values()))
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
        jobs = claim(self.db, self.steps, n, self.lease_s, job_id=job_id,
                     step_lease_s=self.step_lease_s)
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
        """Deletes finished attempts older than STEP_RUNS_RETENTION_DAYS."""
        return self.db.run("prune_step_runs", days=self.services.cfg.step_runs_retention_days)

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
            self.db.one("release", id=lease.job.id, owner=lease.job.lease_owner)
        self.heartbeat.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- running -------------------------------------------------------------------------
    def _run_chain(self, job: Job | None) -> None:
        try:
            while job is not None:
                following = self.run_step(job)
                if following in self.steps and not self.stopping.is_set():
                    claimed = claim(self.db, self.steps, 1, self.lease_s, job_id=job.id,
                                    step_lease_s=self.step_lease_s)
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
        """Run one claimed step; returns the next step when this one advanced."""
        extra = {"job": job.token, "step": job.pipeline_step, "attempt": job.attempts}
        lease = Lease(job)
        self.heartbeat.add(lease)
        with self.db.tx() as tx:     # one round trip: record the attempt, read the video
            tx.run("start_step_run", video_id=job.video_id, step=job.pipeline_step,
                   attempt=job.attempts, worker_id=self.worker_id, owner=job.lease_owner)
            video = tx.one("video_by_id", video_id=job.video_id)
        log.info("step started", extra=extra)
        try:
            if job.attempts > job.max_attempts:
                self._fail(job, "attempts_exhausted",
                           f"{job.pipeline_step} was attempted {job.attempts - 1} times and its "
                           "workers died or lost their lease each time")
                return None
            following = next_step(job.pipeline_step)
            if not (video["options"] or {}).get("force") and self._reuse(job, lease, following):
                log.info("step reused an earlier submission's checkpoint", extra=extra)
                return following
            save = self.step_impls[job.pipeline_step](
                real.StepContext(self.services, job.__dict__, video, lease.report))
            lease.check()
            lease.state = "finishing"    # stop beating: the advance below ends the lease
            with self.db.tx() as tx:
                if tx.one("advance", id=job.id, owner=job.lease_owner, next_step=following) is None:
                    raise LeaseLost("lease lost before the checkpoint was written")
                save(tx)
                tx.run("finish_step_run", owner=job.lease_owner, outcome="succeeded",
                       cause=None, details=None)
            log.info("step succeeded", extra=extra)
            return following
        except LeaseLost as e:
            self._finish(job, "lease_lost", "lease_lost", str(e))
            log.warning("lease lost; abandoning the step", extra=extra)
        except Cancelled:
            self._finish(job, "cancelled", "cancelled", "cancelled while running")
            log.info("step cancelled", extra=extra)
        except ShuttingDown:
            self.db.one("release", id=job.id, owner=job.lease_owner)
            self._finish(job, "released", None, "worker shut down; lease released")
        except Exception as e:
            self._handle_failure(job, e, extra)
        finally:
            self.heartbeat.remove(lease)
        return None

    def _reuse(self, job: Job, lease: Lease, following: str) -> bool:
        """Copies the checkpoint of an earlier submission of the same source, if there is
        one, and advances in the same transaction."""
        query = REUSABLE.get(job.pipeline_step)
        if query is None:
            return False
        with self.db.tx() as tx:
            if tx.one(query, video_id=job.video_id) is None:
                return False
            lease.state = "finishing"
            if tx.one("advance", id=job.id, owner=job.lease_owner, next_step=following) is None:
                raise LeaseLost("lease lost before the reused checkpoint was written")
            tx.run("copy_video_meta", video_id=job.video_id)
            tx.run("finish_step_run", owner=job.lease_owner, outcome="reused", cause=None,
                   details="checkpoint copied from an earlier submission of the same source")
        return True

    def _handle_failure(self, job: Job, exc: Exception, extra: dict) -> None:
        f = classify(exc)
        if f.retryable and job.attempts < job.max_attempts:
            delay = backoff_s(job.attempts, self.services.cfg.backoff_base_s,
                              self.services.cfg.backoff_max_s, self.rng, f.retry_after_s)
            written = self.db.one("retry_later", id=job.id, owner=job.lease_owner, delay_s=delay,
                                  cause=f.cause, details=f.details[:8000])
            outcome = "retrying"
            log.warning("step failed (%s); retrying in %.1f s", f.cause, delay, extra=extra)
        else:
            details = f.details if not f.retryable else \
                f"gave up after {job.attempts} attempts; last error: {f.details}"
            written = self.db.one("fail", id=job.id, owner=job.lease_owner, cause=f.cause,
                                  details=details[:8000])
            outcome = "failed"
            log.error("step failed for good (%s)", f.cause, extra=extra)
        self._finish(job, outcome if written else "lease_lost", f.cause, f.details[:8000])

    def _fail(self, job: Job, cause: str, details: str) -> None:
        self.db.one("fail", id=job.id, owner=job.lease_owner, cause=cause, details=details)
        self._finish(job, "failed", cause, details)

    def _finish(self, job: Job, outcome: str, cause: str | None, details: str | None) -> None:
        try:
            self.db.run("finish_step_run", owner=job.lease_owner, outcome=outcome, cause=cause,
                        details=details)
        except Exception:
            log.exception("could not record the step outcome")
