"""A cancel that lands while a step is committing its checkpoint (issue 11, item 15): the
fenced write finds the lease gone before the heartbeat does, and the attempt must read
`cancelled`, not `lease_lost`, in the history and in /metrics."""
from __future__ import annotations

from server.core.steps import Step
from server.pipeline import noop
from server.worker import Worker
from tests.support.noop_workers import enqueue_noop_jobs, rows, scalar


def _metrics(client) -> dict[str, float]:
    r = client.get("/metrics")
    assert r.status_code == 200
    return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in r.text.splitlines() if line and not line.startswith("#")}


def test_a_cancel_while_the_step_commits_is_recorded_as_cancelled(client, services, clean_db):
    [token] = enqueue_noop_jobs(clean_db, 1)
    answers = []

    def download_then_cancelled(ctx):
        save = noop.download(ctx)
        # The client's cancel arrives after the work is done and before the checkpoint is
        # written: the heartbeat (every few seconds) has not seen it yet.
        answers.append(client.post("/public/video/cancel", json={"token": token}))
        return save

    w = Worker(services, steps=("download",), concurrency=1, pipeline="noop")
    w.step_impls = {Step.DOWNLOAD: download_then_cancelled}
    try:
        [job] = services.jobs.claim(("download",), 1, 30, {})
        assert w.run_step(job) is None
    finally:
        w.shutdown(1)
    assert answers[0].status_code == 200 and answers[0].json["status"] == "cancelled"
    assert rows(clean_db, "select outcome, failure_cause from step_runs") == [("cancelled", "cancelled")]
    assert rows(clean_db, "select status, failure_cause from video_processing_queue") == [("cancelled", "cancelled")]
    assert scalar(clean_db, "select count(*) from video_media") == 0          # nothing committed
    m = _metrics(client)
    assert m['clips_step_attempts_total{outcome="cancelled",step="download"}'] == 1
    assert not any("lease_lost" in name for name in m), [n for n in m if "lease_lost" in n]

    again = client.post("/public/video/cancel", json={"token": token})
    assert again.status_code == 409 and again.json["error"] == "the job is already cancelled"
