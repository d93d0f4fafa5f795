"""A stored transcript is reused for a new submission of the same source only when both
asked for the same language (or both let it be detected). Queue with no-op steps."""
from __future__ import annotations

import psycopg

from server.usecases.submit import SubmitOptions, submit_url
from server.worker import Worker
from tests.support.noop_workers import rows, scalar, wait_for


def transcribe(services, clean_db, language: str | None) -> str:
    token = submit_url(services, "http://127.0.0.1:9/talk.mp4", SubmitOptions())
    if language:    # what the API's `language` option stores (the API field comes separately)
        with psycopg.connect(clean_db, autocommit=True) as c:
            c.execute("update videos set options = options || jsonb_build_object('language', %s::text) "
                      "where token = %s", (language, token))
    worker = Worker(services, steps=("download", "transcribe"), concurrency=1, pipeline="noop")
    try:
        job_id = scalar(clean_db, """select q.id from video_processing_queue q
                                     join videos v on v.id = q.video_id where v.token = %s""", token)
        assert worker.claim_and_dispatch(job_id=job_id)
        wait_for(lambda: scalar(clean_db, """select q.pipeline_step from video_processing_queue q
                                              join videos v on v.id = q.video_id where v.token = %s""",
                                token) == "classify", timeout=30, interval=0.05)
    finally:
        worker.shutdown(5)
    return token


def transcribe_outcome(clean_db, token: str) -> str:
    [(outcome,)] = rows(clean_db, """select r.outcome from step_runs r join videos v on v.id = r.video_id
                                     where v.token = %s and r.step = 'transcribe'""", token)
    return outcome


def test_a_transcript_is_reused_only_for_the_same_language_request(services, clean_db):
    detected = transcribe(services, clean_db, None)
    assert transcribe_outcome(clean_db, detected) == "succeeded"
    assert transcribe_outcome(clean_db, transcribe(services, clean_db, None)) == "reused"
    german = transcribe(services, clean_db, "de")
    assert transcribe_outcome(clean_db, german) == "succeeded"          # not the detected one
    assert transcribe_outcome(clean_db, transcribe(services, clean_db, "de")) == "reused"
