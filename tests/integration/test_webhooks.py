"""Webhooks on a real Postgres and real HTTP: the trigger that records each event with its
job, deliveries to a receiver that verifies them with the `standardwebhooks` package,
retries with the same webhook-id, the address check at connect time, and a worker killed
mid-delivery."""
from __future__ import annotations

import signal
import threading

import pytest

from server.api.presenters import status_out
from server.usecases import keys, videos
from server.usecases.submit import SubmitOptions, submit_url
from server.worker import Worker
from tests.support.noop_workers import rows, start_noop_worker, wait_for
from tests.support.webhook_receiver import WebhookReceiver

VIDEO = "https://example.com/talk.mp4"


@pytest.fixture
def app_config(app_config):
    return {**app_config, "webhook_backoff_base_s": 0.05, "webhook_backoff_max_s": 0.2,
            "webhook_max_attempts": 5}


def _claim(s, step="download"):
    [job] = s.jobs.claim((step,), 1, 30.0, {})
    return job


def finish(s, token, how):
    """Ends the video's job through the queue's own store: the paths a worker or a client take."""
    if how == "cancelled":
        assert s.jobs.cancel(token)
    elif how == "failed":
        assert s.jobs.fail(_claim(s), "not_found", "the source answered 404")
    else:
        assert s.jobs.advance(_claim(s), "done", lambda w: None)


def deliveries(url):
    return rows(url, """select d.event, d.step, d.msg_id, q.status, q.max_attempts, q.video_id
                        from webhook_deliveries d
                        join video_processing_queue q on q.token = d.msg_id and q.kind = 'webhook'
                        order by d.id""")


def job_status(url, msg_id):
    return rows(url, "select status from video_processing_queue where token = %s", msg_id)[0][0]


@pytest.mark.parametrize("how", ["completed", "failed", "cancelled"])
def test_the_end_of_a_video_records_one_delivery_and_queues_it(services, clean_db, how):
    made = keys.create(services, "acme")
    token = submit_url(services, VIDEO, SubmitOptions(webhook_url="http://127.0.0.1:9/hook"),
                       made.row["id"])
    submit_url(services, VIDEO + "?other", SubmitOptions())          # no webhook: no delivery
    finish(services, token, how)
    [(event, step, msg_id, status, max_attempts, video_id)] = deliveries(clean_db)
    assert (event, step, status, max_attempts, video_id) == (f"video.{how}", None, "queued", 5, None)
    assert msg_id.startswith("msg_") and len(msg_id) == 36
    if how == "cancelled":           # cancelling again changes nothing, so notifies nothing
        assert not services.jobs.cancel(token)
    assert len(deliveries(clean_db)) == 1


def test_step_events_come_once_per_finished_step_when_asked(services, clean_db):
    made = keys.create(services, "acme")
    submit_url(services, VIDEO, SubmitOptions(webhook_url="http://127.0.0.1:9/hook",
                                              webhook_events=("video.step_completed", "video.completed")),
               made.row["id"])
    steps = ["download", "transcribe", "classify", "find_clips", "render"]
    for step, following in zip(steps, steps[1:] + ["done"]):
        job = _claim(services, step)
        assert services.jobs.retry_later(job, 0, "network", "blip")      # a retry is no event
        assert services.jobs.advance(_claim(services, step), following, lambda w: None)
    got = [(e, st) for e, st, *_ in deliveries(clean_db)]
    assert got == [("video.step_completed", st) for st in steps] + [("video.completed", None)]


def run_worker(services, until, **kw):
    worker = Worker(services, steps=("deliver_webhook",), concurrency=1, **kw)
    thread = threading.Thread(target=worker.run_forever, kwargs={"poll_s": 0.05}, daemon=True)
    thread.start()
    try:
        wait_for(until, timeout=60, interval=0.05)
    finally:
        worker.stopping.set()
        thread.join(10)
        worker.shutdown(grace_s=5)


def test_a_receiver_failing_twice_gets_three_attempts_and_one_new_event(services, clean_db):
    made = keys.create(services, "acme")
    with WebhookReceiver(made.webhook_secret, answers=[500, 503, 200]) as rx:
        token = submit_url(services, VIDEO, SubmitOptions(webhook_url=rx.url), made.row["id"])
        finish(services, token, "completed")
        [(_, _, msg_id, *_)] = deliveries(clean_db)
        run_worker(services, lambda: job_status(clean_db, msg_id) == "completed")
    assert [r.answered for r in rx.received] == [500, 503, 200]
    assert all(r.verified for r in rx.received)                  # standardwebhooks accepts each
    assert {r.headers["webhook-id"] for r in rx.received} == {msg_id}
    assert len({r.body for r in rx.received}) == 1                # the same bytes every time
    [event] = rx.new_events                                       # no duplicate reported as new
    assert event["type"] == "video.completed" and event["data"]["token"] == token
    assert event["data"]["status"] == "completed" and event["data"]["clip_count"] == 0

    state = videos.status(services, token)
    [log] = status_out(state, services.storage, "http://h").model_dump()["webhooks"]
    assert (log["id"], log["event"], log["state"]) == (msg_id, "video.completed", "delivered")
    assert [(a["attempt"], a["status_code"]) for a in log["attempts"]] == [(1, 500), (2, 503), (3, 200)]
    assert all(a["finished_at"] for a in log["attempts"])


def test_a_receiver_signed_by_the_server_secret_without_a_key(services, clean_db):
    from server.core.keys import new_webhook_secret
    secret = new_webhook_secret()
    services.cfg.webhook_secret = secret
    with WebhookReceiver(secret) as rx:
        token = submit_url(services, VIDEO, SubmitOptions(webhook_url=rx.url))
        finish(services, token, "failed")
        [(_, _, msg_id, *_)] = deliveries(clean_db)
        run_worker(services, lambda: job_status(clean_db, msg_id) == "completed")
    [event] = rx.new_events
    assert event["type"] == "video.failed" and event["data"]["failure_cause"] == "not_found"


def test_a_receiver_on_a_private_address_is_refused_when_connecting(services, clean_db):
    # Submitted while the address looked public (here: private addresses allowed), the
    # host now resolves into the server's own network: the worker must not connect.
    made = keys.create(services, "acme")
    with WebhookReceiver(made.webhook_secret) as rx:
        token = submit_url(services, VIDEO, SubmitOptions(webhook_url=rx.url), made.row["id"])
        finish(services, token, "completed")
        [(_, _, msg_id, *_)] = deliveries(clean_db)
        services.cfg.allow_private_urls = False
        services.__dict__.pop("webhook_sender", None)      # built under the strict policy
        run_worker(services, lambda: job_status(clean_db, msg_id) == "failed")
    assert rx.received == []
    [(cause, details)] = rows(clean_db, "select failure_cause, failure_details from video_processing_queue "
                                        "where token = %s", msg_id)
    assert cause == "private_url" and "127.0.0.1" in details


def test_a_worker_killed_mid_delivery_leads_to_exactly_one_more_attempt(services, clean_db, data_dir):
    made = keys.create(services, "acme")
    with WebhookReceiver(made.webhook_secret, answers=["hang", 200]) as rx:
        token = submit_url(services, VIDEO, SubmitOptions(webhook_url=rx.url), made.row["id"])
        finish(services, token, "completed")
        [(_, _, msg_id, *_)] = deliveries(clean_db)
        env = {"WEBHOOK_BACKOFF_BASE_SECONDS": "0.05", "WEBHOOK_BACKOFF_MAX_SECONDS": "0.2",
               "ALLOW_PRIVATE_URLS": "true"}
        first = start_noop_worker(clean_db, data_dir, steps="deliver_webhook", concurrency=1,
                                  extra_env=env)
        second = None
        try:
            rx.wait_for(1)                                   # the first attempt is on the wire
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            second = start_noop_worker(clean_db, data_dir, steps="deliver_webhook", concurrency=1,
                                       extra_env=env)
            wait_for(lambda: job_status(clean_db, msg_id) == "completed", timeout=60)
        finally:
            for p in (first, second):
                if p is not None and p.poll() is None:
                    p.terminate()
                    p.wait(15)
    assert [r.answered for r in rx.received] == [None, 200]
    assert {r.headers["webhook-id"] for r in rx.received} == {msg_id} and len(rx.new_events) == 1
    attempts = rows(clean_db, """select a.attempt, a.finished_at is not null, a.status_code
                                 from webhook_attempts a join webhook_deliveries d on d.id = a.delivery_id
                                 where d.msg_id = %s order by a.id""", msg_id)
    assert attempts == [(1, False, None), (2, True, 200)]
    [(outcome, cause)] = rows(clean_db, """select r.outcome, r.failure_cause from step_runs r
                                           join video_processing_queue q on q.id = r.job_id
                                           where q.token = %s and r.attempt = 1""", msg_id)
    assert (outcome, cause) == ("lease_lost", "worker_lost")
