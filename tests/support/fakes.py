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
from pathlib import Path

from server.core.failures import fatal
from server.core.jobs import Job
from server.core.steps import DONE, Kind, PIPELINES
from server.core.stores import Save
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

    # reads
    def media(self, video_id):
        return self.tables["media"].get(video_id)

    def transcript(self, video_id):
        return self.tables["transcript"].get(video_id)

    def analysis(self, video_id):
        return self.tables["analysis"].get(video_id)

    def clips(self, video_id):
        return [self.clip_rows[video_id][i] for i in sorted(self.clip_rows.get(video_id, {}))]

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

    def _put(self, table, key, row):
        if key in self.store.tables[table]:
            raise AssertionError(f"second {table} checkpoint for {key}")    # the primary key
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
                             "failure_details": None, "created": job_id}
        return job_id

    def enqueue_audio(self, token, payload, max_attempts):
        self.add(kind=Kind.AUDIO_ENHANCE, token=token, payload=payload, max_attempts=max_attempts)

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
                 run_after=self.clock(), failure_cause=None, failure_details=None)
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
        self.rows: dict[int, dict] = {}
        self.by_key: dict[str, str] = {}
        self._ids = itertools.count(1)

    def token_of(self, video_id):
        return self.rows[video_id]["token"]

    def create(self, *, token, source_kind, source_url, upload_key, fingerprint, idempotency_key,
               title, options, priority, max_attempts):
        if idempotency_key is not None and idempotency_key in self.by_key:
            return self.by_key[idempotency_key]
        video_id = next(self._ids)
        self.rows[video_id] = {"id": video_id, "token": token, "source_kind": source_kind,
                               "source_url": source_url, "upload_key": upload_key,
                               "source_fingerprint": fingerprint, "title": title, "options": options}
        self.checkpoints.fingerprints[video_id] = fingerprint
        if idempotency_key is not None:
            self.by_key[idempotency_key] = token
        assert self.jobs is not None
        self.jobs.add(video_id=video_id, priority=priority, max_attempts=max_attempts)
        return token

    def _row(self, token):
        return next((v for v in self.rows.values() if v["token"] == token), None)

    def status(self, token):
        v = self._row(token)
        if v is None:
            return None
        assert self.jobs is not None
        job = next(r for r in self.jobs.rows.values() if r["video_id"] == v["id"] and r["kind"] == Kind.VIDEO)
        return {**v, **self.checkpoints.video_meta.get(v["id"], {}), **{k: job[k] for k in (
            "pipeline_step", "status", "progress", "attempts", "max_attempts", "failure_cause",
            "failure_details")}, "video_id": v["id"]}

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

    def create(self, upload_id, filename, size):
        self.rows[upload_id] = {"id": upload_id, "filename": filename, "size_bytes": size,
                                "status": "open", "token": None}
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

    def delete_prefix(self, prefix):
        shutil.rmtree(self.root / prefix, ignore_errors=True)


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
    videos.jobs = jobs
    cfg = Settings.model_construct(**{**Settings().model_dump(), "data_dir": tmp_path / "data",
                                      "backoff_base_s": 1.0, "backoff_max_s": 8.0, **settings})
    s = Services(cfg, jobs=jobs, videos=videos, checkpoints=checkpoints, uploads=FakeUploads(),
                 counters=jobs)
    s.storage = FakeStorage(tmp_path / "storage")
    s.prober = FakeProber()
    return s
