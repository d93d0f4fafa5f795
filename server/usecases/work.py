"""The worker's side of a job: claim it, run its step, then exactly one ending: advance
with the step's checkpoint, reuse an earlier submission's checkpoint, retry later, fail,
or release. Every ending is fenced by the lease, so a worker that lost its lease writes
nothing. The same functions serve every kind of job."""
from __future__ import annotations

import logging
import random

from server.core.failures import Cancelled, LeaseLost, ShuttingDown, backoff_s, classify, fatal
from server.core.jobs import Job, Lease
from server.core.steps import REUSABLE, Status, Step, next_step
from server.core.stores import CheckpointWriter, QuotaExceeded, Row, Save
from server.pipeline.context import StepContext, StepImpl
from server.services import Services

log = logging.getLogger(__name__)

DETAILS_MAX = 8000
DEFER_S = 1.0          # a job that found its source's step already running looks again after this


def claim(s: Services, steps: tuple[str, ...], limit: int, job_id: int | None = None) -> list[Job]:
    """Up to `limit` due jobs of `steps` (or the job `job_id`), each under a fresh lease;
    none at a reusable step whose source another job is downloading or transcribing."""
    return s.jobs.claim(steps, limit, s.cfg.lease_s, {st: s.cfg.lease_for(st) for st in steps},
                        job_id=job_id, coalesce_steps=tuple(map(str, REUSABLE)))


class _NothingToReuse(Exception):
    pass


def run_step(s: Services, job: Job, lease: Lease, impls: dict[Step, StepImpl], worker_id: str,
             rng: random.Random) -> str | None:
    """Runs one claimed step under `lease`; returns the next step when this one advanced."""
    extra = {"job": job.token, "step": job.pipeline_step, "attempt": job.attempts}
    # Two workers may claim jobs of one source at the same moment; the claim cannot see
    # that, so the step checks, under a lock, before anything is recorded or done.
    if job.pipeline_step in REUSABLE and s.jobs.defer_to_runner(job, DEFER_S):
        log.info("another job of the same source is running this step; waiting for its "
                 "checkpoint", extra=extra)
        return None
    video = s.jobs.start_attempt(job, worker_id)
    log.info("step started", extra=extra)
    try:
        if job.attempts > job.max_attempts:
            fail(s, job, "attempts_exhausted",
                 f"{job.pipeline_step} was attempted {job.attempts - 1} times and its "
                 "workers died or lost their lease each time")
            return None
        following = next_step(job.pipeline_step)
        if not ((video or {}).get("options") or {}).get("force") and reuse(s, job, lease, following, video):
            log.info("step reused an earlier submission's checkpoint", extra=extra)
            return following
        save = charged(s, job, video, impls[Step(job.pipeline_step)](StepContext(s, job, video, lease.report)))
        lease.check()
        lease.state = "finishing"    # stop beating: the advance below ends the lease
        if not s.jobs.advance(job, following, save):
            raise LeaseLost("lease lost before the checkpoint was written")
        log.info("step succeeded", extra=extra)
        return following
    except LeaseLost as e:
        if not _fenced_out(s, job, "lease_lost", str(e)):
            log.warning("lease lost; abandoning the step", extra=extra)
    except Cancelled:
        _record(s, job, "cancelled", "cancelled", "cancelled while running")
        log.info("step cancelled", extra=extra)
    except ShuttingDown:
        release(s, job)
    except Exception as e:
        retry_or_fail(s, job, e, rng, extra)
    return None


def charged(s: Services, job: Job, video: Row | None, save: Save) -> Save:
    """A download's checkpoint also charges the source's length to the video's API key, in
    the same transaction: a URL's length is known only now (an upload was charged when it
    was submitted, and is not charged twice). Past the key's daily minutes the checkpoint
    rolls back and the job fails with `quota_exceeded`."""
    key_id = (video or {}).get("api_key_id")
    if job.pipeline_step != Step.DOWNLOAD or video is None or key_id is None:
        return save
    video_id = video["id"]

    def save_and_charge(w: CheckpointWriter) -> None:
        save(w)
        try:
            w.charge_source(key_id=key_id, video_id=video_id, defaults=s.key_defaults)
        except QuotaExceeded as e:
            raise fatal("quota_exceeded", str(e)) from None
    return save_and_charge


def reuse(s: Services, job: Job, lease: Lease, following: str, video: Row | None = None) -> bool:
    """Copies the checkpoint of an earlier submission of the same source, if there is one,
    and advances in the same transaction."""
    if job.pipeline_step not in REUSABLE or job.video_id is None:
        return False
    video_id = job.video_id

    def copy(w: CheckpointWriter) -> None:
        if not w.reuse(job.pipeline_step, video_id):
            raise _NothingToReuse()           # rolls the advance back
    save = charged(s, job, video, copy)
    lease.state = "finishing"
    try:
        advanced = s.jobs.advance(job, following, save, outcome="reused",
                                  details="checkpoint copied from an earlier submission of the same source")
    except _NothingToReuse:
        lease.state = "held"
        return False
    if not advanced:
        raise LeaseLost("lease lost before the reused checkpoint was written")
    return True


def retry_or_fail(s: Services, job: Job, exc: Exception, rng: random.Random,
                  extra: dict | None = None) -> None:
    """Classifies the failure: retryable ones wait their backoff until max_attempts, the
    others fail the job at once. Either way `failure_cause` and `failure_details` say why."""
    f = classify(exc)
    if f.retryable and job.attempts < job.max_attempts:
        base_s, max_s = s.cfg.backoff_for(job.kind)
        delay = backoff_s(job.attempts, base_s, max_s, rng, f.retry_after_s)
        written = s.jobs.retry_later(job, delay, f.cause, f.details[:DETAILS_MAX])
        outcome = "retrying"
        log.warning("step failed (%s); retrying in %.1f s", f.cause, delay, extra=extra)
    else:
        details = f.details if not f.retryable else \
            f"gave up after {job.attempts} attempts; last error: {f.details}"
        written = s.jobs.fail(job, f.cause, details[:DETAILS_MAX])
        outcome = "failed"
        log.error("step failed for good (%s)", f.cause, extra=extra)
    if written:
        _record(s, job, outcome, f.cause, f.details[:DETAILS_MAX])
    else:
        _fenced_out(s, job, f.cause, f.details[:DETAILS_MAX])


def fail(s: Services, job: Job, cause: str, details: str) -> None:
    if s.jobs.fail(job, cause, details):
        _record(s, job, "failed", cause, details)
    else:
        _fenced_out(s, job, cause, details)


def release(s: Services, job: Job) -> None:
    """Hands the job back untouched (the worker is stopping); the attempt does not count."""
    if s.jobs.release(job):
        _record(s, job, "released", None, "worker shut down; lease released")
    else:
        _fenced_out(s, job, None, "worker shut down after its lease was gone")


def _fenced_out(s: Services, job: Job, cause: str | None, details: str) -> bool:
    """A fenced write found the lease gone. A cancel that landed while the step was
    finishing (or failing) is what took it far more often than a lost lease: record the
    attempt as cancelled then, so it is not counted as a lease lost to the infrastructure.
    Returns whether it was a cancel."""
    try:
        cancelled = s.jobs.status_of(job.id) == Status.CANCELLED
    except Exception:
        log.exception("could not read the job's status")
        cancelled = False
    if cancelled:
        log.info("the job was cancelled while its step was finishing",
                 extra={"job": job.token, "step": job.pipeline_step, "attempt": job.attempts})
        _record(s, job, "cancelled", "cancelled", "cancelled while the step was finishing")
    else:
        _record(s, job, "lease_lost", "lease_lost" if cause is None else cause, details)
    return cancelled


def _record(s: Services, job: Job, outcome: str, cause: str | None, details: str | None) -> None:
    try:
        s.jobs.finish_attempt(job, outcome, cause, details)
    except Exception:
        log.exception("could not record the step outcome")
