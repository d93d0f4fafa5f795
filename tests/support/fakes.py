"""In-memory stand-ins for the stores and ports, for the unit tests of the use cases.

They keep the stores' contracts (server/core/stores.py) that the use cases rely on:
claims take due jobs by priority then age under a fresh lease, every ending is fenced by
the lease, an advance writes its checkpoint all or nothing. The Postgres stores are
tested against the same behaviour on a real database (tests/integration)."""
from __future__ import annotations

import itertools
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from server.core.failures import fatal
from server.core.jobs import Job
from server.core.keys import Limits
from server.core.steps import DONE, Kind, PIPELINES
from server.core.stores import Charge, IdempotencyConflict, QuotaExceeded, Save, Subscription, no_room
from server.services import Services
from server.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeCheckpoints:
    def __init__(self) -> None:
        self.tables: dict[str, dict] = {"media": {}, "transcript": {}, "analysis": {}, "clip_search": {},
                                        "audio": {}}
        self.clip_rows: dict[int, dict[int, dict]] = {}
        self.video_meta: dict[int, dict] = {}
        self.fingerprints: dict[int, str] = {}      # video id -> source fingerprint (for reuse)
        self.jobs: FakeJobs | None = None           # for the lease fence on rendered clips
        self.keys: FakeKeys | None = None           # for the quota charged with a download

    # reads
    def media(self, video_id):
        return self.tables["media"].get(video_id)

    def transcript(self, video_id):
        return self.tables["transcript"].get(video_id)

    def analysis(self, video_id):
        return self.tables["analysis"].get(video_id)

    def clips(self, video_id):
        return [self.clip_rows[video_id][i] for i in sorted(self.clip_rows.get(video_id, {}))]

    def clips_of_videos(self, video_ids):
        return {v: self.clips(v) for v in video_ids}

    def save_rendered_clip(self, *, video_id, clip_index, video_key, thumbnail_key, outputs, owner):
        assert self.jobs is not None
        if not any(j["video_id"] == video_id and j["lease_owner"] == owner and j["status"] == "running"
                   for j in self.jobs.rows.values()):
            return False
        self.clip_rows[video_id][clip_index].update(video_key=video_key, thumbnail_key=thumbnail_key,
                                                    outputs=outputs)
        return True

    def writer(self) -> "FakeWriter":
        return FakeWriter(self)


class FakeWriter:
    """Buffers writes; `commit` applies them (what a transaction would do)."""

    def __init__(self, store: FakeCheckpoints):
        self.store = store
        self.pending: list = []
        self.staged: dict = {}          # what this transaction wrote, as it sees it

    def _put(self, table, key, row):
        if key in self.store.tables[table]:
            raise AssertionError(f"second {table} checkpoint for {key}")    # the primary key
        self.staged[(table, key)] = row
        self.pending.append(lambda: self.store.tables[table].__setitem__(key, row))

    def save_media(self, *, video_id, **row):
        self._put("media", video_id, {"video_id": video_id, **row})

    def save_transcript(self, *, video_id, **row):
        self._put("transcript", video_id, {"video_id": video_id, **row})

    def save_analysis(self, *, video_id, **row):
        self._put("analysis", video_id, {"video_id": video_id, **row})

    def save_clip_search(self, *, video_id, **row):
        self._put("clip_search", video_id, {"video_id": video_id, **row})

    def save_clip(self, *, video_id, clip_index, **row):
        self.pending.append(lambda: self.store.clip_rows.setdefault(video_id, {}).__setitem__(
            clip_index, {"clip_index": clip_index, "video_key": None, "thumbnail_key": None,
                         "outputs": {}, **row}))

    def update_video_meta(self, *, video_id, **meta):
        self.pending.append(lambda: self.store.video_meta.setdefault(video_id, {}).update(
            {k: v for k, v in meta.items() if v is not None}))

    def save_audio_output(self, *, job_id, **row):
        self._put("audio", job_id, {"job_id": job_id, **row})

    def charge_source(self, *, key_id, video_id, defaults):
        media = self.staged.get(("media", video_id)) or self.store.tables["media"][video_id]
        assert self.store.keys is not None
        self.pending.append(self.store.keys.charge(key_id, video_id, 0, media["duration_s"], defaults))

    def save_clip_version(self, *, video_id, clip_index, **row):
        self.pending.append(lambda: self.store.clip_rows[video_id][clip_index].update(row))

    def reuse(self, step, video_id):
        table = {"download": "media", "transcribe": "transcript"}[step]
        mine = self.store.fingerprints.get(video_id)
        for other, fp in self.store.fingerprints.items():
            if other != video_id and fp == mine and other in self.store.tables[table]:
                self._put(table, video_id, {**self.store.tables[table][other], "video_id": video_id})
                return True
        return False

    def commit(self):
        for apply in self.pending:
            apply()


class FakeJobs:
    def __init__(self, checkpoints: FakeCheckpoints, videos: "FakeVideos | None" = None, clock=None):
        self.checkpoints = checkpoints
        checkpoints.jobs = self
        self.videos = videos
        self.clock = clock or Clock()
        self.rows: dict[int, dict] = {}
        self.attempts: list[dict] = []
        self.limits: dict[str, int] = {}
        self._ids = itertools.count(1)

    # creating
    def add(self, *, kind=Kind.VIDEO, video_id=None, token=None, priority=0, max_attempts=5, payload=None):
        job_id = next(self._ids)
        self.rows[job_id] = {"id": job_id, "kind": kind, "video_id": video_id, "token": token,
                             "payload": payload or {}, "pipeline_step": PIPELINES[kind][0],
                             "status": "queued", "priority": priority, "attempts": 0,
                             "max_attempts": max_attempts, "run_after": self.clock(), "lease_owner": None,
                             "lease_expires_at": None, "progress": 0.0, "failure_cause": None,
                             "failure_details": None, "created": job_id,
                             "created_at": datetime.now(timezone.utc), "finished_at": None}
        return job_id

    def enqueue_audio(self, token, payload, max_attempts):
        self.add(kind=Kind.AUDIO_ENHANCE, token=token, payload=payload, max_attempts=max_attempts)

    def enqueue_clip_render(self, *, video_id, token, payload, priority, max_attempts):
        live = [r for r in self.rows.values() if r["kind"] == Kind.CLIP_RENDER and r["video_id"] == video_id
                and r["payload"]["clip_index"] == payload["clip_index"]
                and r["status"] in ("queued", "running", "retrying")]
        if live:                        # the partial unique index of the real store
            return False
        self.add(kind=Kind.CLIP_RENDER, video_id=video_id, token=token, payload=payload,
                 priority=priority, max_attempts=max_attempts)
        return True

    def clip_renders_of_videos(self, video_ids):
        return {v: [r for r in self.rows.values() if r["kind"] == Kind.CLIP_RENDER and r["video_id"] == v]
                for v in video_ids}

    def audio_job(self, token):
        for r in self.rows.values():
            if r["token"] == token and r["kind"] == Kind.AUDIO_ENHANCE:
                out = self.checkpoints.tables["audio"].get(r["id"])
                return {**r, "output_key": out["storage_key"] if out else None}
        return None

    def _token(self, r):
        return r["token"] or self.videos.token_of(r["video_id"])

    # coalescing: jobs of one source wait for the one running their step
    def _key(self, r):
        """The job's source key: its video's fingerprint, none for a forced submission."""
        if not self.videos or r["video_id"] is None:
            return None
        v = self.videos.rows[r["video_id"]]
        return None if (v["options"] or {}).get("force") else v["source_fingerprint"]

    def _runner_of_my_source(self, r, now):
        key = self._key(r)
        return key is not None and any(
            o["id"] != r["id"] and o["pipeline_step"] == r["pipeline_step"] and o["status"] == "running"
            and o["lease_expires_at"] >= now and self._key(o) == key for o in self.rows.values())

    def defer_to_runner(self, job, delay_s):
        r = self._held(job)
        if r is None or not self._runner_of_my_source(r, self.clock()):
            return False
        r.update(status="queued", attempts=max(r["attempts"] - 1, 0), lease_owner=None,
                 lease_expires_at=None, progress=0.0, run_after=self.clock() + delay_s)
        return True

    # claiming
    def claim(self, steps, limit, lease_s, step_lease_s, job_id=None, coalesce_steps=()):
        now = self.clock()
        due = [r for r in self.rows.values() if r["pipeline_step"] in steps
               and (job_id is None or r["id"] == job_id)
               and ((r["status"] in ("queued", "retrying") and r["run_after"] <= now)
                    or (r["status"] == "running" and r["lease_expires_at"] < now))
               and not (r["pipeline_step"] in coalesce_steps and self._runner_of_my_source(r, now))]
        due.sort(key=lambda r: (-r["priority"], r["run_after"], r["id"]))
        running = {s: sum(1 for r in self.rows.values() if r["pipeline_step"] == s and r["status"] == "running"
                          and r["lease_expires_at"] >= now) for s in self.limits}
        out = []
        for r in due:
            if len(out) == limit:
                break
            step = r["pipeline_step"]
            key = self._key(r)
            if step in coalesce_steps and key is not None and any(
                    j.pipeline_step == step and self._key(self.rows[j.id]) == key for j in out):
                continue                                   # one job of a source per claim
            if step in self.limits:
                if running[step] >= self.limits[step]:
                    continue
                running[step] += 1
            if r["status"] == "running":          # a rescue: close the dead worker's attempt
                self._close(r["lease_owner"], "lease_lost", "worker_lost", "rescued")
            secs = step_lease_s.get(step, lease_s)
            r.update(status="running", lease_owner=str(uuid.uuid4()), lease_expires_at=now + secs,
                     attempts=r["attempts"] + 1, progress=0.0)
            out.append(Job(r["id"], r["kind"], r["video_id"], step, r["attempts"], r["max_attempts"],
                           r["lease_owner"], r["priority"], self._token(r), r["payload"], secs))
        return out

    def _held(self, job):
        r = self.rows[job.id]
        return r if r["lease_owner"] == job.lease_owner and r["status"] == "running" else None

    def start_attempt(self, job, worker_id):
        self.attempts.append({"job_id": job.id, "video_id": job.video_id, "step": job.pipeline_step,
                              "attempt": job.attempts, "worker_id": worker_id, "owner": job.lease_owner,
                              "outcome": None, "cause": None, "details": None})
        return self.videos.rows.get(job.video_id) if self.videos and job.video_id else None

    def heartbeat(self, job, progress):
        r = self._held(job)
        if r is None:
            return False
        r.update(lease_expires_at=self.clock() + job.lease_s, progress=progress)
        return True

    def status_of(self, job_id):
        return self.rows[job_id]["status"] if job_id in self.rows else None

    # endings
    def advance(self, job, next_step, save: Save, *, outcome="succeeded", details=None):
        r = self._held(job)
        if r is None:
            return False
        writer = self.checkpoints.writer()
        save(writer)                       # raises: nothing below happens (a rollback)
        writer.commit()
        r.update(pipeline_step=next_step, status="completed" if next_step == DONE else "queued",
                 attempts=0, progress=0.0, lease_owner=None, lease_expires_at=None,
                 run_after=self.clock(), failure_cause=None, failure_details=None,
                 finished_at=datetime.now(timezone.utc) if next_step == DONE else None)
        self._close(job.lease_owner, outcome, None, details)
        return True

    def retry_later(self, job, delay_s, cause, details):
        r = self._held(job)
        if r is None:
            return False
        r.update(status="retrying", run_after=self.clock() + delay_s, lease_owner=None,
                 lease_expires_at=None, failure_cause=cause, failure_details=details)
        return True

    def fail(self, job, cause, details):
        r = self._held(job)
        if r is None:
            return False
        r.update(status="failed", lease_owner=None, lease_expires_at=None, failure_cause=cause,
                 failure_details=details)
        return True

    def release(self, job):
        r = self._held(job)
        if r is None:
            return False
        r.update(status="queued", attempts=max(r["attempts"] - 1, 0), lease_owner=None,
                 lease_expires_at=None, run_after=self.clock())
        return True

    def _close(self, owner, outcome, cause, details):
        for a in self.attempts:
            if a["owner"] == owner and a["outcome"] is None:
                a.update(outcome=outcome, cause=cause, details=details)

    def finish_attempt(self, job, outcome, cause, details):
        self._close(job.lease_owner, outcome, cause, details)

    def cancel(self, token):
        for r in self.rows.values():
            if r["kind"] == Kind.VIDEO and self._token(r) == token and r["status"] in ("queued", "running", "retrying"):
                r.update(status="cancelled", lease_owner=None, lease_expires_at=None,
                         failure_cause="cancelled")
                return True
        return False

    def attempts_of_video(self, video_id):
        return [a for a in self.attempts if a["video_id"] == video_id]

    def attempts_of_videos(self, video_ids):
        return {v: self.attempts_of_video(v) for v in video_ids}

    def prune_history(self, days):
        return 0

    def set_step_limit(self, step, max_running):
        self.limits[step] = max_running

    def clear_step_limit(self, step):
        self.limits.pop(step, None)

    def job_counts(self):
        return []

    def outcome_totals(self):
        return []

    def duration_totals(self):
        return []


class FakeVideos:
    def __init__(self, checkpoints: FakeCheckpoints) -> None:
        self.checkpoints = checkpoints
        self.jobs: FakeJobs | None = None
        self.keys: FakeKeys | None = None
        self.rows: dict[int, dict] = {}
        self.by_key: dict[tuple, tuple[str, str]] = {}     # (key id, idempotency key) -> (token, request)
        self.webhooks: dict[int, Subscription | None] = {}
        self._ids = itertools.count(1)

    def token_of(self, video_id):
        return self.rows[video_id]["token"]

    def create(self, *, token, source_kind, source_url, upload_key, fingerprint, idempotency_key,
               title, options, priority, max_attempts, request_fingerprint="",
               charge: Charge | None = None, webhook: Subscription | None = None):
        key_id = charge.key_id if charge else None
        scope = (key_id, idempotency_key)
        if idempotency_key is not None and scope in self.by_key:
            earlier_token, earlier_fingerprint = self.by_key[scope]
            if earlier_fingerprint != request_fingerprint:
                raise IdempotencyConflict()
            return earlier_token
        video_id = next(self._ids)
        if charge is not None:               # raises before anything is written
            assert self.keys is not None
            commit = self.keys.charge(charge.key_id, video_id, 1, charge.source_s, charge.limits,
                                      require_minutes=charge.source_s is None)
            commit()
        self.rows[video_id] = {"id": video_id, "token": token, "source_kind": source_kind,
                               "source_url": source_url, "upload_key": upload_key,
                               "source_fingerprint": fingerprint, "title": title, "options": options,
                               "api_key_id": key_id}
        self.webhooks[video_id] = webhook
        self.checkpoints.fingerprints[video_id] = fingerprint
        if idempotency_key is not None:
            self.by_key[scope] = (token, request_fingerprint)
        assert self.jobs is not None
        self.jobs.add(video_id=video_id, priority=priority, max_attempts=max_attempts)
        return token

    def statuses(self, tokens):
        return [row for row in map(self.status, tokens) if row is not None]

    def page_of_key(self, key_id, *, before_id, statuses, limit):
        assert self.jobs is not None
        status_of = {r["video_id"]: r["status"] for r in self.jobs.rows.values() if r["kind"] == Kind.VIDEO}
        rows = [{"id": v["id"], "token": v["token"]} for v in sorted(self.rows.values(), key=lambda v: -v["id"])
                if v["api_key_id"] == key_id and (before_id is None or v["id"] < before_id)
                and (statuses is None or status_of[v["id"]] in statuses)]
        return rows[:limit]

    def _row(self, token):
        return next((v for v in self.rows.values() if v["token"] == token), None)

    def status(self, token):
        v = self._row(token)
        if v is None:
            return None
        assert self.jobs is not None
        job = next(r for r in self.jobs.rows.values() if r["video_id"] == v["id"] and r["kind"] == Kind.VIDEO)
        media = self.checkpoints.media(v["id"])
        return {**v, **self.checkpoints.video_meta.get(v["id"], {}), **{k: job[k] for k in (
            "pipeline_step", "status", "progress", "attempts", "max_attempts", "failure_cause",
            "failure_details")}, "video_id": v["id"], "title": v["title"], "duration_s": None,
            "media_key": media["storage_key"] if media else None,
            "clips_searched": v["id"] in self.checkpoints.tables["clip_search"],
            "clip_notice": (self.checkpoints.tables["clip_search"].get(v["id"]) or {}).get("notice")}

    def briefs(self, tokens):
        out = []
        for t in tokens:
            row = self.status(t)
            if row is not None:
                assert self.jobs is not None
                out.append({**row, "clips": len(self.checkpoints.clip_rows.get(row["video_id"], {})),
                            "rendering": sum(1 for r in self.jobs.clip_renders_of_videos([row["video_id"]])[row["video_id"]]
                                             if r["status"] in ("queued", "running", "retrying"))})
        return out

    def transcript(self, token):
        v = self._row(token)
        return self.checkpoints.transcript(v["id"]) if v else None

    def job_id(self, token):
        v = self._row(token)
        assert self.jobs is not None
        return next((r["id"] for r in self.jobs.rows.values() if v and r["video_id"] == v["id"]), None)


class FakeUploads:
    def __init__(self) -> None:
        self.rows: dict[str, dict] = {}
        self.chunks: dict[str, set] = {}

    def create(self, upload_id, filename, size, api_key_id=None):
        self.rows[upload_id] = {"id": upload_id, "filename": filename, "size_bytes": size,
                                "status": "open", "token": None, "api_key_id": api_key_id}
        self.chunks[upload_id] = set()

    def get(self, upload_id):
        return dict(self.rows[upload_id]) if upload_id in self.rows else None

    def record_chunk(self, upload_id, start, end):
        self.chunks[upload_id].add((start, end))

    def ranges(self, upload_id):
        return sorted(self.chunks[upload_id])

    def start_completing(self, upload_id):
        if self.rows[upload_id]["status"] != "open":
            return False
        self.rows[upload_id]["status"] = "completing"
        return True

    def reopen(self, upload_id):
        if self.rows[upload_id]["status"] == "completing":
            self.rows[upload_id]["status"] = "open"

    def finish(self, upload_id, token):
        self.rows[upload_id].update(status="completed", token=token)


class FakeKeys:
    """API keys in memory, with the store's rules: only hashes, one live key per name, a
    GCRA rate on the clock, and a ledger charged once per video and kind of charge."""

    def __init__(self, clock=None) -> None:
        self.clock = clock or Clock()
        self.rows: dict[int, dict] = {}
        self.charges: dict[tuple[int, str], tuple[int, float]] = {}  # (video, what) -> (key, amount)
        self.day_left_s = 3600.0
        self._ids = itertools.count(1)

    def _live(self, name):
        return next((r for r in self.rows.values() if r["name"] == name and r["revoked_at"] is None), None)

    def _by_hash(self, digest):
        return next((r for r in self.rows.values() if r["key_hash"] == digest or (
            r["previous_hash"] == digest and r["previous_expires_at"] > self.clock())), None)

    def create(self, *, name, prefix, key_hash, webhook_secret, rate_per_min, videos_per_day,
               source_minutes_per_day):
        if self._live(name):
            return None
        key_id = next(self._ids)
        self.rows[key_id] = {"id": key_id, "name": name, "prefix": prefix, "key_hash": key_hash,
                             "previous_hash": None, "previous_expires_at": None,
                             "webhook_secret": webhook_secret, "rate_per_min": rate_per_min,
                             "videos_per_day": videos_per_day,
                             "source_minutes_per_day": source_minutes_per_day,
                             "tat": float("-inf"), "revoked_at": None}
        return self.rows[key_id]

    def all(self):
        return list(self.rows.values())

    def revoke(self, name):
        row = self._live(name)
        if row:
            row["revoked_at"] = self.clock()
        return row is not None

    def rotate(self, name, *, prefix, key_hash, grace_s):
        row = self._live(name)
        if row:
            row.update(previous_hash=row["key_hash"] if grace_s > 0 else None,
                       previous_expires_at=self.clock() + grace_s if grace_s > 0 else None,
                       key_hash=key_hash, prefix=prefix)
        return row is not None

    def set_webhook_secret(self, name, secret):
        row = self._live(name)
        if row:
            row["webhook_secret"] = secret
        return row is not None

    def _step(self, row, default_rate):
        rate = default_rate if row["rate_per_min"] is None else row["rate_per_min"]
        return 60.0 / rate if rate else 0.0

    def take(self, key_hash, default_rate):
        row = self._by_hash(key_hash)
        if row is None or row["revoked_at"] is not None:
            return None
        tat = max(row["tat"], self.clock()) + self._step(row, default_rate)
        if tat > self.clock() + 60:
            return None
        row["tat"] = tat
        return row

    def refusal(self, key_hash, default_rate):
        row = self._by_hash(key_hash)
        if row is None:
            return None
        wait = max(row["tat"], self.clock()) + self._step(row, default_rate) - self.clock() - 60
        return {"revoked": row["revoked_at"] is not None, "wait_s": wait}

    def used(self, key_id, what):
        return sum(a for (v, w), (k, a) in self.charges.items() if k == key_id and w == what)

    def _limits(self, key_id, defaults: Limits) -> tuple[int, float]:
        """The key's videos a day and source seconds a day, its own or the defaults."""
        row = self.rows[key_id]
        videos = defaults.videos_per_day if row["videos_per_day"] is None else row["videos_per_day"]
        minutes = (defaults.source_minutes_per_day if row["source_minutes_per_day"] is None
                   else row["source_minutes_per_day"])
        return videos, 60 * minutes

    def room_today(self, key_id, defaults: Limits):
        videos, seconds = self._limits(key_id, defaults)
        used = {"videos": self.used(key_id, "video"), "seconds": self.used(key_id, "source_seconds"),
                "day_left_s": self.day_left_s}
        refused = no_room({"videos_limit": videos, "seconds_limit": seconds}, used)
        if refused is not None:
            raise refused

    def charge(self, key_id, video_id, videos, source_s, defaults: Limits, require_minutes=False):
        """Checks the day's totals as they would be after the charge; raises QuotaExceeded,
        else returns the commit that records it."""
        new = {(video_id, w): (key_id, float(a)) for w, a in (("video", videos or None),
                                                               ("source_seconds", source_s))
               if a is not None and (video_id, w) not in self.charges}
        if not new and not require_minutes:
            return lambda: None
        limit_videos, limit_s = self._limits(key_id, defaults)
        videos_after = self.used(key_id, "video") + sum(a for (v, w), (k, a) in new.items() if w == "video")
        seconds_after = self.used(key_id, "source_seconds") + (source_s or 0)
        if limit_videos and videos_after > limit_videos:
            raise QuotaExceeded("videos", limit_videos, 0, None, self.day_left_s)
        if limit_s and (seconds_after > limit_s or (require_minutes and seconds_after >= limit_s)):
            raise QuotaExceeded("minutes", limit_s / 60, (limit_s - seconds_after + (source_s or 0)) / 60,
                                None if source_s is None else source_s / 60, self.day_left_s)
        return lambda: self.charges.update(new)


class FakeWebhooks:
    """Deliveries and attempts in memory. The trigger that records them in Postgres is the
    integration tests' business; unit tests add deliveries with `add`."""

    def __init__(self) -> None:
        self.deliveries: dict[int, dict] = {}
        self.attempts: list[dict] = []
        self._ids = itertools.count(1)

    def add(self, **row):
        delivery_id = next(self._ids)
        self.deliveries[delivery_id] = {"id": delivery_id, "body": None, "step": None,
                                        "key_secret": None, **row}
        return delivery_id

    def delivery(self, delivery_id):
        return self.deliveries.get(delivery_id)

    def keep_body(self, delivery_id, body):
        d = self.deliveries[delivery_id]
        if d["body"] is None:
            d["body"] = body
        return d["body"]

    def start_attempt(self, delivery_id, attempt):
        self.attempts.append({"id": len(self.attempts) + 1, "delivery_id": delivery_id,
                              "attempt": attempt, "status_code": None, "error": None,
                              "finished": False})
        return len(self.attempts)

    def finish_attempt(self, attempt_id, status_code, error):
        self.attempts[attempt_id - 1].update(status_code=status_code, error=error, finished=True)

    def of_videos(self, video_ids):
        return {v: [] for v in video_ids}


class FakeStorage:
    """Storage in a folder (what LocalStorage does, without its URL scheme)."""

    def __init__(self, root: Path):
        self.root = root

    def put(self, key, src, content_type):
        dest = self.root / key
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(src), dest)
        self.types = getattr(self, "types", {})
        self.types[key] = content_type

    def local_path(self, key):
        path = self.root / key
        if not path.exists():
            raise FileNotFoundError(key)
        return path

    def url(self, key):
        return "/files/" + key

    def urls(self, keys):
        # The port's contract: objects that are not stored are left out.
        return {key: self.url(key) for key in keys if (self.root / key).is_file()}

    def delete_prefix(self, prefix):
        shutil.rmtree(self.root / prefix, ignore_errors=True)


class FakeRenderer:
    """Writes small files that say what was asked: the clip's bounds and the options."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def render(self, media, clip, out_video, out_thumb, transcript=None, options=None, progress=None):
        from server.core.model import RenderResult
        self.calls.append((clip.start_s, clip.end_s, options))
        out_video.write_bytes(f"MP4 {clip.start_s}-{clip.end_s} {options.format if options else ''}".encode())
        out_thumb.write_bytes(b"JPEG")
        sidecars = {}
        for kind, ext in (("srt", ".srt"), ("vtt", ".vtt"), ("manifest", ".json")):
            sidecars[kind] = out_video.with_suffix(ext)
            sidecars[kind].write_text(f"{kind} of {clip.title}", encoding="utf-8")
        return RenderResult("fake", clip.start_s, clip.end_s, sidecars)


@dataclass
class Facts:
    duration_s: float
    width: int | None = None
    height: int | None = None


class FakeProber:
    """Files whose bytes start with b"MEDIA <seconds>" are media of that duration; a file
    starting with b"MEDIA-CUT" is cut short; anything else is not media."""

    def probe(self, path):
        head = path.read_bytes()[:40]
        if not head.startswith(b"MEDIA"):
            raise fatal("corrupt_media", "the file could not be read as media")
        return Facts(float(head.split()[1]) if head.startswith(b"MEDIA ") else 10.0)

    def check_complete(self, path, duration_s):
        if path.read_bytes().startswith(b"MEDIA-CUT"):
            raise fatal("corrupt_media", "the file is cut short")

    def sha256_of(self, path):
        import hashlib
        return hashlib.sha256(path.read_bytes()).hexdigest()


def fake_services(tmp_path: Path, **settings) -> Services:
    """Services on in-memory stores, a folder for storage and the fake prober."""
    checkpoints = FakeCheckpoints()
    videos = FakeVideos(checkpoints)
    jobs = FakeJobs(checkpoints, videos)
    keys = FakeKeys(jobs.clock)
    videos.jobs, videos.keys, checkpoints.keys = jobs, keys, keys
    cfg = Settings.model_construct(**{**Settings().model_dump(), "data_dir": tmp_path / "data",
                                      "backoff_base_s": 1.0, "backoff_max_s": 8.0, **settings})
    s = Services(cfg, jobs=jobs, videos=videos, checkpoints=checkpoints, uploads=FakeUploads(),
                 counters=jobs, keys=keys, webhooks=FakeWebhooks())
    s.storage = FakeStorage(tmp_path / "storage")
    s.prober = FakeProber()
    return s
