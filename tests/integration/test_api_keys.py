"""API keys on a real Postgres: only hashes stored, one rate shared by every process, quotas
that concurrent submissions cannot overrun, a URL charged once downloaded, the job list's
pagination while videos keep arriving, and the `keys` command line."""
from __future__ import annotations

import hashlib
import os
import random
import re
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.core.jobs import Lease
from server.core.steps import Step
from server.usecases import Refused, keys, videos, work
from server.usecases.submit import SubmitOptions, submit_url
from tests.support import ROOT
from tests.support.noop_workers import rows, scalar


def test_only_the_hash_of_a_key_is_stored(services, clean_db):
    made = keys.create(services, "acme")
    everything = str(rows(clean_db, "select * from api_keys"))
    assert made.key not in everything and made.key[11:] not in everything
    assert hashlib.sha256(made.key.encode()).hexdigest() in everything
    assert keys.authenticate(services, f"bearer {made.key}").name == "acme"


def test_a_revoked_key_stops_working_and_a_rotated_one_keeps_its_videos(services, clean_db):
    made = keys.create(services, "acme")
    token = submit_url(services, "https://example.com/a.mp4", SubmitOptions(), made.row["id"])
    new = keys.rotate(services, "acme", grace_s=60)
    for k in (made.key, new):                           # both, during the grace
        key = keys.authenticate(services, f"Bearer {k}")
        page = videos.of_key(services, key.id, cursor=None, limit=10, statuses=None)
        assert [v.job["token"] for v in page.videos] == [token]
    keys.revoke(services, "acme")
    for k in (made.key, new):
        with pytest.raises(Refused) as e:
            keys.authenticate(services, f"Bearer {k}")
        assert e.value.message == "this API key was revoked"
    assert keys.listing(services)[0]["revoked_at"] is not None


def test_the_rate_is_one_limit_for_every_thread_and_process(services, clean_db):
    made = keys.create(services, "burst", rate_per_min=10)

    def call(_):
        try:
            keys.authenticate(services, f"Bearer {made.key}")
            return "ok"
        except Refused as e:
            assert e.extra["retry_after_s"] > 0
            return e.reason
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(30)))
    assert results.count("ok") == 10 and results.count("rate_limited") == 20


def test_concurrent_submissions_cannot_overrun_the_videos_quota(services, clean_db):
    made = keys.create(services, "acme", videos_per_day=20)
    start = threading.Barrier(8)

    def submit(i):
        if i < 8:
            start.wait()               # the first eight race each other from the same instant
        try:
            return submit_url(services, f"https://example.com/{i}.mp4", SubmitOptions(), made.row["id"])
        except Refused as e:
            return e.reason
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(submit, range(60)))
    assert sum(r != "rate_limited" for r in results) == 20
    assert scalar(clean_db, "select count(*) from videos") == 20
    assert scalar(clean_db, "select sum(amount) from api_key_charges where what = 'video'") == 20
    assert keys.listing(services)[0]["videos_today"] == 20


def _download(seconds):
    def step(ctx):
        return lambda w: w.save_media(video_id=ctx.video_id, storage_key=f"k/{ctx.video_id}",
                                      bytes=1, sha256=f"x{ctx.video_id}", duration_s=seconds,
                                      width=None, height=None)
    return step


def test_a_url_is_charged_its_minutes_in_the_download_checkpoint(services, clean_db):
    made = keys.create(services, "acme", source_minutes_per_day=1)
    for name in ("a", "b"):
        submit_url(services, f"https://example.com/{name}.mp4", SubmitOptions(), made.row["id"])
    outcomes = []
    for _ in range(2):
        [job] = services.jobs.claim(("download",), 1, 30.0, {})
        work.run_step(services, job, Lease(job), {Step.DOWNLOAD: _download(40)}, "w", random.Random(1))
        outcomes.append(rows(clean_db, "select status, failure_cause from video_processing_queue "
                                       "where id = %s", job.id)[0])
    assert outcomes == [("queued", None), ("failed", "quota_exceeded")]
    assert scalar(clean_db, "select count(*) from video_media") == 1        # rolled back with it
    assert scalar(clean_db, "select sum(amount) from api_key_charges where what = 'source_seconds'") == 40


def test_pages_under_concurrent_inserts_have_no_duplicates_and_no_gaps(services, clean_db):
    made = keys.create(services, "acme", videos_per_day=0)
    key_id = made.row["id"]
    existing = [submit_url(services, f"https://example.com/old{i}.mp4", SubmitOptions(), key_id)
                for i in range(40)]
    stop = threading.Event()
    added: list[str] = []

    def keep_inserting():
        i = 0
        while not stop.is_set() and i < 200:
            added.append(submit_url(services, f"https://example.com/new{i}.mp4", SubmitOptions(), key_id))
            i += 1
    writer = threading.Thread(target=keep_inserting)
    writer.start()
    seen, cursor, pages = [], None, 0
    try:
        while True:
            page = videos.of_key(services, key_id, cursor=cursor, limit=7, statuses=None)
            seen += [v.job["token"] for v in page.videos]
            pages += 1
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
    finally:
        stop.set()
        writer.join()
    assert len(seen) == len(set(seen))                    # no duplicates
    assert set(existing) <= set(seen)                     # no gaps among rows that existed
    assert seen[-len(existing):] == existing[::-1]        # newest first
    assert pages >= 40 // 7 and added                     # it really paged while rows arrived


def test_the_list_filters_by_status_and_holds_only_the_keys_videos(services, clean_db):
    mine = keys.create(services, "mine").row["id"]
    theirs = keys.create(services, "theirs").row["id"]
    a = submit_url(services, "https://example.com/a.mp4", SubmitOptions(), mine)
    b = submit_url(services, "https://example.com/b.mp4", SubmitOptions(), mine)
    submit_url(services, "https://example.com/c.mp4", SubmitOptions(), theirs)
    submit_url(services, "https://example.com/d.mp4", SubmitOptions())
    services.jobs.cancel(a)
    listed = lambda statuses: [v.job["token"] for v in videos.of_key(services, mine, cursor=None, limit=10,
                                                                       statuses=statuses).videos]
    assert listed(None) == [b, a]
    assert listed(["cancelled"]) == [a] and listed(["queued", "running"]) == [b]
    with pytest.raises(Refused) as e:
        videos.of_key(services, mine, cursor="bm90LWEtY3Vyc29y", limit=10, statuses=None)
    assert e.value.reason == "invalid" and "cursor" in e.value.message


def _cli(db_url, data_dir, *args, clips=False):
    """`python -m server keys ...`, or the `clips` console command's entry point."""
    env = {**os.environ, "DATABASE_URL": db_url, "DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    command = ([sys.executable, "-c", "import sys; from server.__main__ import clips; "
                                      "sys.argv[0] = 'clips'; sys.exit(clips())"]
               if clips else [sys.executable, "-m", "server"])
    return subprocess.run([*command, "keys", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_the_command_line_prints_a_key_once_and_manages_it(clean_db, data_dir):
    made = _cli(clean_db, data_dir, "create", "--name", "partner", "--rate", "30", "--videos-per-day", "5")
    assert made.returncode == 0, made.stderr
    [key] = re.findall(r"ck_[A-Za-z0-9_-]{43}", made.stdout)
    assert re.search(r"whsec_\S+", made.stdout)
    listing = _cli(clean_db, data_dir, "list", clips=True)
    assert "partner" in listing.stdout and key[:11] in listing.stdout and key not in listing.stdout
    assert "30" in listing.stdout and "600 (default)" in listing.stdout
    again = _cli(clean_db, data_dir, "create", "--name", "partner")
    assert again.returncode == 1 and "already named 'partner'" in again.stderr
    rotated = _cli(clean_db, data_dir, "rotate", "partner")
    [new] = re.findall(r"ck_[A-Za-z0-9_-]{43}", rotated.stdout)
    assert new != key and "stopped working" in rotated.stdout
    assert _cli(clean_db, data_dir, "revoke", "partner").returncode == 0
    assert "revoked" in _cli(clean_db, data_dir, "list").stdout
    assert _cli(clean_db, data_dir, "revoke", "partner").returncode == 1
    bad = _cli(clean_db, data_dir, "create", "--name", "x", "--rate", "-1")
    assert bad.returncode == 2 and "0 (unlimited) or more" in bad.stderr
