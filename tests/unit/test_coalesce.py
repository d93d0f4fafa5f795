"""Concurrent submissions of one source do the work once (issue 11, item 14), over the
in-memory stores: while one job downloads or transcribes a source, the others of the same
fingerprint are not claimed; they reuse its checkpoint once it exists, take over when it
fails, is cancelled or dies, and a forced submission still redoes the work."""
from __future__ import annotations

import random

import pytest

from server.core.failures import fatal
from server.core.jobs import Lease
from server.core.steps import Step
from server.usecases import videos, work
from server.usecases.submit import SubmitOptions, submit_url
from tests.support.fakes import fake_services
from tests.unit.test_work import IMPLS

URL = "https://example.com/talk.mp4"


@pytest.fixture
def s(tmp_path):
    return fake_services(tmp_path, allow_private_urls=True)


def run(s, job, impls=IMPLS):
    return work.run_step(s, job, Lease(job), impls, "w1", random.Random(1))


def outcomes(s, step):
    return sorted(a["outcome"] for a in s.jobs.attempts if a["step"] == step)


def drain(s, steps=("download", "transcribe")):
    """Claims and runs whatever is due until nothing is."""
    while jobs := work.claim(s, steps, 10):
        for job in jobs:
            run(s, job)


def test_only_one_job_of_a_source_is_claimed_and_the_others_reuse_its_checkpoints(s):
    tokens = [submit_url(s, URL, SubmitOptions()) for _ in range(5)]
    other = submit_url(s, "https://example.com/other.mp4", SubmitOptions())
    [leader, unrelated] = work.claim(s, ("download",), 10)
    assert leader.token == tokens[0] and unrelated.token == other
    assert work.claim(s, ("download",), 10) == []          # the others wait while it runs
    assert run(s, leader) == "transcribe" and run(s, unrelated) == "transcribe"
    drain(s)
    assert outcomes(s, "download") == ["reused"] * 4 + ["succeeded"] * 2
    assert outcomes(s, "transcribe") == ["reused"] * 4 + ["succeeded"] * 2
    assert all(s.videos.status(t)["pipeline_step"] == "classify" for t in tokens)


@pytest.mark.parametrize("ending", ["fails", "is_cancelled", "dies"])
def test_the_others_take_over_when_the_running_job_ends_without_a_checkpoint(s, ending):
    tokens = [submit_url(s, URL, SubmitOptions()) for _ in range(3)]
    [leader] = work.claim(s, ("download",), 10)
    if ending == "fails":
        run(s, leader, {Step.DOWNLOAD: lambda ctx: (_ for _ in ()).throw(fatal("not_found", "404"))})
    elif ending == "is_cancelled":
        videos.cancel(s, leader.token)
    else:
        s.jobs.clock.now += leader.lease_s + 1               # its worker stopped beating
    [next_one] = work.claim(s, ("download",), 10)           # one of them, and only one
    assert next_one.token in tokens
    assert run(s, next_one) == "transcribe"
    drain(s)
    assert outcomes(s, "download").count("succeeded") == 1
    live = [t for t in tokens if s.videos.status(t)["status"] not in ("failed", "cancelled")]
    assert len(live) == (3 if ending == "dies" else 2)
    assert all(s.videos.status(t)["pipeline_step"] == "classify" for t in live)


def test_a_forced_submission_redoes_the_work_and_neither_waits_nor_is_waited_for(s):
    first = submit_url(s, URL, SubmitOptions())
    forced = submit_url(s, URL, SubmitOptions(force=True))
    third = submit_url(s, URL, SubmitOptions())
    claimed = work.claim(s, ("download",), 10)
    assert sorted(j.token for j in claimed) == sorted([first, forced])   # third waits for first
    for job in claimed:
        run(s, job)
    drain(s)
    by_token = {t: [a["outcome"] for a in s.jobs.attempts if s.videos.token_of(a["video_id"]) == t]
                for t in (first, forced, third)}
    assert by_token == {first: ["succeeded", "succeeded"], forced: ["succeeded", "succeeded"],
                        third: ["reused", "reused"]}


def test_two_workers_claiming_at_the_same_moment_do_the_work_once(s):
    """Claims that cannot see each other (the claim's snapshot) both win; the step's check
    under a lock hands one of them back, uncounted and unrecorded."""
    a, b = (submit_url(s, URL, SubmitOptions()) for _ in range(2))
    [job_a] = s.jobs.claim(("download",), 1, 30, {}, job_id=s.videos.job_id(a))
    [job_b] = s.jobs.claim(("download",), 1, 30, {}, job_id=s.videos.job_id(b))
    assert run(s, job_a) is None                            # it saw b running: deferred
    row_a = s.jobs.rows[job_a.id]
    assert (row_a["status"], row_a["attempts"], row_a["run_after"]) == ("queued", 0, s.jobs.clock.now + work.DEFER_S)
    assert run(s, job_b) == "transcribe"                    # b saw nobody else running
    assert [a["outcome"] for a in s.jobs.attempts] == ["succeeded"]
    s.jobs.clock.now += work.DEFER_S
    [again] = work.claim(s, ("download",), 10)
    assert again.id == job_a.id and run(s, again) == "transcribe"
    assert outcomes(s, "download") == ["reused", "succeeded"]


def test_jobs_of_different_steps_or_sources_never_wait_for_each_other(s):
    a = submit_url(s, URL, SubmitOptions())
    [job] = work.claim(s, ("download",), 1)
    assert run(s, job) == "transcribe"
    b = submit_url(s, URL, SubmitOptions())
    c = submit_url(s, "https://example.com/c.mp4", SubmitOptions())
    [transcribing] = work.claim(s, ("transcribe",), 1)       # a's transcript is being made...
    assert transcribing.token == a
    tokens = {j.token for j in work.claim(s, ("download",), 10)}
    assert tokens == {b, c}                                  # ...b can still reuse a's download
