"""Queue guarantees: fencing, resume from checkpoints, no step run twice under concurrency."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import psycopg
import pytest

from tests.support import ROOT, copy_to
from tests.support.noop_workers import claim, wait_for
from server.worker import Worker


def submit(client, url: str) -> str:
    r = client.post("/public/video", json={"video_url": url})
    assert r.status_code == 202, r.json
    return r.json["token"]


def runs(db_url, token) -> list[tuple]:
    with psycopg.connect(db_url) as c:
        return c.execute("""select r.step, r.outcome, r.worker_id, r.started_at, r.finished_at
                            from step_runs r join videos v on v.id = r.video_id
                            where v.token = %s order by r.id""", (token,)).fetchall()


def queue_row(db_url, token) -> tuple:
    with psycopg.connect(db_url) as c:
        return c.execute("""select q.pipeline_step, q.status, q.failure_cause from video_processing_queue q
                            join videos v on v.id = q.video_id where v.token = %s""", (token,)).fetchone()


def test_worker_that_lost_its_lease_writes_nothing(client, services, clean_db, media_server, media_dir, tiny_video):
    token = submit(client, media_server.url(copy_to(media_dir, tiny_video)))
    a = Worker(services, steps=("download",), concurrency=1, worker_id="A")
    b = Worker(services, steps=("download",), concurrency=1, worker_id="B")
    try:
        [job_a] = claim(services, ("download",), 1, 30)
        with psycopg.connect(clean_db, autocommit=True) as c:   # A stalls past its lease
            c.execute("update video_processing_queue set lease_expires_at = now() - interval '1 second'")
        [job_b] = claim(services, ("download",), 1, 30)
        assert job_b.id == job_a.id and job_b.lease_owner != job_a.lease_owner and job_b.attempts == 2

        assert a.run_step(job_a) is None                         # did the work, could not commit it
        with psycopg.connect(clean_db) as c:
            assert c.execute("select count(*) from video_media").fetchone()[0] == 0
        assert queue_row(clean_db, token) == ("download", "running", None)

        assert b.run_step(job_b) == "transcribe"
        with psycopg.connect(clean_db) as c:
            assert c.execute("select count(*) from video_media").fetchone()[0] == 1
        assert [(r[0], r[1], r[2]) for r in runs(clean_db, token)] == [
            ("download", "lease_lost", "A"), ("download", "succeeded", "B")]
        assert queue_row(clean_db, token) == ("transcribe", "queued", None)
    finally:
        a.shutdown(1)
        b.shutdown(1)


def test_resume_from_checkpoint_does_not_redo_steps(client, services, clean_db, media_server, media_dir, tiny_video):
    token = submit(client, media_server.url(copy_to(media_dir, tiny_video)))
    first = Worker(services, steps=("download",), concurrency=1, worker_id="first")
    first.claim_and_dispatch()
    wait_for(lambda: queue_row(clean_db, token)[0] == "transcribe")
    first.shutdown(1)
    # The source disappears from the web: a redone download would now fail.
    (media_dir / tiny_video.name).unlink()
    second = Worker(services, steps=("download", "transcribe"), concurrency=1, worker_id="second")
    second.claim_and_dispatch()
    wait_for(lambda: queue_row(clean_db, token)[0] == "classify")
    second.shutdown(1)
    assert [(r[0], r[1], r[2]) for r in runs(clean_db, token)] == [
        ("download", "succeeded", "first"), ("transcribe", "succeeded", "second")]
    body = client.get(f"/public/video/status?token={token}").json
    assert [s["state"] for s in body["steps"]] == ["done", "done", "pending", "pending", "pending"]
    assert body["video"]["language"] == "en"
    t = client.get(f"/public/video/transcript?token={token}")
    assert t.status_code == 200 and "tide" in " ".join(s["text"] for s in t.json["segments"]).lower()
    assert "-->" in client.get(f"/public/video/transcript?token={token}&format=srt").text
    assert client.get(f"/public/video/transcript?token={token}&format=vtt").text.startswith("WEBVTT")


def start_worker(db_url, data_dir, steps, name, lease_s="10"):
    env = {**os.environ, "DATABASE_URL": db_url, "DATA_DIR": str(data_dir), "LEASE_SECONDS": lease_s,
           "WORKER_POLL_SECONDS": "0.2", "WHISPER_MODEL": "tiny.en", "LOG_LEVEL": "WARNING",
           "PYTHONPATH": str(ROOT), "ALLOW_PRIVATE_URLS": "1"}   # media comes from 127.0.0.1
    return subprocess.Popen([sys.executable, "-m", "server", "worker", "--steps", steps,
                             "--concurrency", "2"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.mark.parametrize("steps", ["download,transcribe"])
def test_concurrent_workers_never_run_the_same_step(client, clean_db, data_dir, media_server, media_dir,
                                                    tiny_video, steps):
    name = copy_to(media_dir, tiny_video)
    tokens = [submit(client, media_server.url(name) + f"?copy={i}") for i in range(6)]
    procs = [start_worker(clean_db, data_dir, steps, f"w{i}") for i in range(3)]
    try:
        last = steps.split(",")[-1]
        after = {"transcribe": "classify", "render": "done"}[last]
        wait_for(lambda: all(queue_row(clean_db, t)[0] == after for t in tokens), timeout=240)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            assert p.wait(30) == 0, p.stderr.read()
    workers = set()
    for t in tokens:
        history = runs(clean_db, t)
        for step in steps.split(","):
            mine = [r for r in history if r[0] == step]
            assert [r[1] for r in mine] == ["succeeded"], (t, step, mine)
        workers |= {r[2] for r in history}
    assert len(workers) >= 2                       # the work really was shared
