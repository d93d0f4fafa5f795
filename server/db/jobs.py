"""The queue's store: `video_processing_queue` (every kind of job), `step_runs` (the
attempt history), `step_limits` (cluster-wide caps) and the running totals behind the
metrics. The only module that issues their queries.

A claim is one short transaction (FOR UPDATE SKIP LOCKED, commit). Every write that ends a
step names the lease owner, so a worker that lost its lease writes nothing."""
from __future__ import annotations

from typing import Callable

from psycopg.types.json import Jsonb

from server.core.jobs import Job
from server.core.stores import CheckpointWriter, Row, Save
from server.db import Database, Tx


class PgJobs:
    def __init__(self, db: Database, writer: Callable[[Tx], CheckpointWriter]):
        self.db = db
        self._writer = writer          # the checkpoint store's writer for a transaction

    # -- claiming and leases -----------------------------------------------------------
    def claim(self, steps: tuple[str, ...], limit: int, lease_s: float,
              step_lease_s: dict[str, float], job_id: int | None = None,
              coalesce_steps: tuple[str, ...] = ()) -> list[Job]:
        """Locks the caps of capped steps (see `step_limits`), then claims up to `limit`
        jobs, never more of a capped step than its free slots, and at `coalesce_steps`
        none whose source another job is running at that step."""
        if limit <= 0:
            return []
        leases = {s: step_lease_s.get(s, lease_s) for s in steps}
        with self.db.tx() as tx:
            tx.all("lock_step_limits", steps=list(steps))
            rows = tx.all("claim", steps=list(steps), limit=limit, lease_s=lease_s, job_id=job_id,
                          lease_steps=list(leases), lease_secs=list(leases.values()),
                          coalesce_steps=list(coalesce_steps))
        return [Job(**{**r, "lease_owner": str(r["lease_owner"]),
                       "lease_s": leases[r["pipeline_step"]]}) for r in rows]

    def defer_to_runner(self, job: Job, delay_s: float) -> bool:
        """Hands the claim back when another job of the same source is running this step
        (the check runs under a lock per source and step); False when this job should do
        the work."""
        with self.db.tx() as tx:
            if tx.one("lock_source_step", id=job.id) is None:
                return False        # forced, or no other live job of this source
            return tx.one("defer_to_runner", id=job.id, owner=job.lease_owner,
                          delay_s=delay_s) is not None

    def start_attempt(self, job: Job, worker_id: str) -> Row | None:
        return self.db.one("start_step_run", job_id=job.id, video_id=job.video_id,
                           step=job.pipeline_step, attempt=job.attempts, worker_id=worker_id,
                           owner=job.lease_owner)

    def heartbeat(self, job: Job, progress: float) -> bool:
        return self.db.one("heartbeat", id=job.id, owner=job.lease_owner, lease_s=job.lease_s,
                           progress=progress) is not None

    def status_of(self, job_id: int) -> str | None:
        row = self.db.one("job_status", id=job_id)
        return row["status"] if row else None

    # -- ending an attempt -------------------------------------------------------------
    def advance(self, job: Job, next_step: str, save: Save, *, outcome: str = "succeeded",
                details: str | None = None) -> bool:
        with self.db.tx() as tx:
            if tx.one("advance", id=job.id, owner=job.lease_owner, next_step=next_step) is None:
                return False
            save(self._writer(tx))
            tx.run("finish_step_run", owner=job.lease_owner, outcome=outcome, cause=None,
                   details=details)
        return True

    def retry_later(self, job: Job, delay_s: float, cause: str, details: str) -> bool:
        return self.db.one("retry_later", id=job.id, owner=job.lease_owner, delay_s=delay_s,
                           cause=cause, details=details) is not None

    def fail(self, job: Job, cause: str, details: str) -> bool:
        return self.db.one("fail", id=job.id, owner=job.lease_owner, cause=cause,
                           details=details) is not None

    def release(self, job: Job) -> bool:
        return self.db.one("release", id=job.id, owner=job.lease_owner) is not None

    def finish_attempt(self, job: Job, outcome: str, cause: str | None, details: str | None) -> None:
        self.db.run("finish_step_run", owner=job.lease_owner, outcome=outcome, cause=cause,
                    details=details)

    # -- clients and operators ---------------------------------------------------------
    def cancel(self, token: str) -> bool:
        return self.db.one("cancel", token=token) is not None

    def attempts_of_video(self, video_id: int) -> list[Row]:
        return self.attempts_of_videos([video_id])[video_id]

    def attempts_of_videos(self, video_ids: list[int]) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {v: [] for v in video_ids}
        for row in self.db.all("step_runs_for_videos", video_ids=video_ids):
            out[row["video_id"]].append(row)
        return out

    def prune_history(self, days: float) -> int:
        return self.db.run("prune_step_runs", days=days)

    def set_step_limit(self, step: str, max_running: int) -> None:
        self.db.one("set_step_limit", step=step, max_running=max_running)

    def clear_step_limit(self, step: str) -> None:
        self.db.one("clear_step_limit", step=step)

    def enqueue_audio(self, token: str, payload: dict, max_attempts: int) -> None:
        self.db.one("enqueue_audio", token=token, payload=Jsonb(payload), max_attempts=max_attempts)

    def audio_job(self, token: str) -> Row | None:
        return self.db.one("audio_job_by_token", token=token)

    def enqueue_clip_render(self, *, video_id: int, token: str, payload: dict, priority: int,
                            max_attempts: int) -> bool:
        return self.db.one("enqueue_clip_render", video_id=video_id, token=token,
                           payload=Jsonb(payload), priority=priority,
                           max_attempts=max_attempts) is not None

    def clip_renders_of_videos(self, video_ids: list[int]) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {v: [] for v in video_ids}
        for row in self.db.all("clip_renders_for_videos", video_ids=video_ids):
            out[row["video_id"]].append(row)
        return out

    # -- counters ----------------------------------------------------------------------
    def job_counts(self) -> list[Row]:
        return self.db.all("metrics_jobs")

    def outcome_totals(self) -> list[Row]:
        return self.db.all("metrics_outcomes")

    def duration_totals(self) -> list[Row]:
        return self.db.all("metrics_durations")

