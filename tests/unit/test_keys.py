"""API keys over in-memory stores: what is kept, how a request names a key, its rate, its
rotation and revocation, and its daily quotas."""
from __future__ import annotations

import hashlib
import random

import pytest

from server.core.jobs import Lease
from server.core.keys import BadCredentials, bearer_key
from server.core.steps import Step
from server.usecases import Refused, keys, work
from server.usecases.submit import SubmitOptions, submit_file, submit_url
from tests.support.fakes import fake_services


@pytest.fixture
def s(tmp_path):
    return fake_services(tmp_path, allow_private_urls=True, api_key_rate_per_min=120.0,
                         api_key_videos_per_day=100, api_key_source_minutes_per_day=600.0)


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(s):
    made = keys.create(s, "  acme  ")
    assert made.key.startswith("ck_") and len(made.key) == 46
    assert made.webhook_secret.startswith("whsec_")
    [row] = s.keys.rows.values()
    assert row["name"] == "acme" and row["key_hash"] == hashlib.sha256(made.key.encode()).hexdigest()
    assert made.key not in repr(row) and made.key.startswith(row["prefix"]) and len(row["prefix"]) == 11
    assert keys.create(s, "other").key != made.key


def test_names_are_unique_among_live_keys(s):
    keys.create(s, "acme")
    with pytest.raises(Refused) as e:
        keys.create(s, "acme")
    assert e.value.reason == "conflict"
    keys.revoke(s, "acme")
    keys.create(s, "acme")                    # a revoked key gives its name up


@pytest.mark.parametrize("header", ["Bearer {k}", "bearer {k}", "BEARER {k}", "  bEaReR \t{k}  "])
def test_the_bearer_scheme_is_case_insensitive(header):
    key = "ck_" + "a" * 43
    assert bearer_key(header.format(k=key)) == key


@pytest.mark.parametrize("header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer not-a-key",
                                    "Bearer ck_short", "Token ck_" + "a" * 43, "ck_" + "a" * 43])
def test_other_credentials_are_refused(header):
    with pytest.raises(BadCredentials):
        bearer_key(header)


def test_no_header_is_anonymous(s):
    assert bearer_key(None) is None and bearer_key("") is None
    assert keys.authenticate(s, None) is None


def test_a_request_with_a_key_is_attributed_to_it(s):
    made = keys.create(s, "acme", videos_per_day=7)
    key = keys.authenticate(s, f"Bearer {made.key}")
    assert key is not None and (key.id, key.name) == (made.row["id"], "acme")
    assert (key.limits.videos_per_day, key.limits.rate_per_min) == (7, 120.0)


@pytest.mark.parametrize("header, words", [
    ("Bearer ck_" + "x" * 43, "not valid"),
    ("Basic abc", "Bearer <API key>"),
])
def test_unknown_or_malformed_keys_are_401(s, header, words):
    with pytest.raises(Refused) as e:
        keys.authenticate(s, header)
    assert e.value.reason == "unauthorized" and words in e.value.message


def test_a_revoked_key_is_refused_at_once(s):
    made = keys.create(s, "acme")
    keys.revoke(s, "acme")
    with pytest.raises(Refused) as e:
        keys.authenticate(s, f"Bearer {made.key}")
    assert (e.value.reason, e.value.message) == ("unauthorized", "this API key was revoked")
    with pytest.raises(Refused):
        keys.revoke(s, "acme")                # nothing live by that name any more


def test_a_key_gets_its_own_rate_then_429_with_the_wait(s):
    made = keys.create(s, "slow", rate_per_min=2)
    header = f"Bearer {made.key}"
    assert keys.authenticate(s, header) and keys.authenticate(s, header)   # a burst of 2
    with pytest.raises(Refused) as e:
        keys.authenticate(s, header)
    assert e.value.reason == "rate_limited" and e.value.extra["retry_after_s"] == pytest.approx(30)
    s.keys.clock.now += 30
    assert keys.authenticate(s, header)


def test_rotation_replaces_the_key_and_keeps_the_old_one_only_for_the_grace(s):
    made = keys.create(s, "acme")
    new = keys.rotate(s, "acme")
    assert keys.authenticate(s, f"Bearer {new}").id == made.row["id"]     # the same key's identity
    with pytest.raises(Refused):
        keys.authenticate(s, f"Bearer {made.key}")
    newer = keys.rotate(s, "acme", grace_s=3600)
    assert keys.authenticate(s, f"Bearer {new}") and keys.authenticate(s, f"Bearer {newer}")
    s.keys.clock.now += 3601
    with pytest.raises(Refused):
        keys.authenticate(s, f"Bearer {new}")


def test_the_videos_quota_refuses_past_the_day_with_the_wait(s):
    made = keys.create(s, "acme", videos_per_day=2)
    for i in range(2):
        submit_url(s, f"https://example.com/{i}.mp4", SubmitOptions(), made.row["id"])
    with pytest.raises(Refused) as e:
        submit_url(s, "https://example.com/3.mp4", SubmitOptions(), made.row["id"])
    assert e.value.reason == "rate_limited" and e.value.extra["retry_after_s"] == 3600
    assert len(s.videos.rows) == 2
    submit_url(s, "https://example.com/3.mp4", SubmitOptions())            # anonymous: no quota
    other = keys.create(s, "other", videos_per_day=2)
    submit_url(s, "https://example.com/4.mp4", SubmitOptions(), other.row["id"])


def test_an_idempotent_repeat_is_not_charged_again(s):
    made = keys.create(s, "acme", videos_per_day=1)
    opts = SubmitOptions(idempotency_key="k")
    first = submit_url(s, "https://example.com/a.mp4", opts, made.row["id"])
    assert submit_url(s, "https://example.com/a.mp4", opts, made.row["id"]) == first


def test_an_upload_is_charged_its_minutes_when_submitted(s, tmp_path):
    made = keys.create(s, "acme", source_minutes_per_day=1)
    path = tmp_path / "a.mp4"
    path.write_bytes(b"MEDIA 40")
    submit_file(s, path, filename="a.mp4", opts=SubmitOptions(), key_id=made.row["id"])
    path.write_bytes(b"MEDIA 30 another file")
    with pytest.raises(Refused) as e:
        submit_file(s, path, filename="b.mp4", opts=SubmitOptions(), key_id=made.row["id"])
    assert e.value.reason == "rate_limited" and "0.3 are left today" in e.value.message
    assert len(s.videos.rows) == 1
    assert len(list((tmp_path / "storage" / "uploads").glob("*/source.mp4"))) == 1   # no orphan file


def test_a_url_is_refused_once_the_minutes_are_used_up(s, tmp_path):
    made = keys.create(s, "acme", source_minutes_per_day=0.5)
    path = tmp_path / "a.mp4"
    path.write_bytes(b"MEDIA 30")
    submit_file(s, path, filename="a.mp4", opts=SubmitOptions(), key_id=made.row["id"])
    with pytest.raises(Refused) as e:
        submit_url(s, "https://example.com/a.mp4", SubmitOptions(), made.row["id"])
    assert "0.0 are left today" in e.value.message


def _download(seconds):
    def step(ctx):
        return lambda w: w.save_media(video_id=ctx.video_id, storage_key="k", bytes=1, sha256="x",
                                      duration_s=seconds, width=None, height=None)
    return step


def _run_download(s, seconds):
    [job] = s.jobs.claim(("download",), 1, 10, {})
    work.run_step(s, job, Lease(job), {Step.DOWNLOAD: _download(seconds)}, "w", random.Random(1))
    return s.jobs.rows[job.id]


def test_a_url_is_charged_its_minutes_once_downloaded_and_fails_past_the_quota(s):
    made = keys.create(s, "acme", source_minutes_per_day=1)
    submit_url(s, "https://example.com/a.mp4", SubmitOptions(), made.row["id"])
    submit_url(s, "https://example.com/b.mp4", SubmitOptions(), made.row["id"])
    first = _run_download(s, 45)
    assert (first["status"], first["pipeline_step"]) == ("queued", "transcribe")
    second = _run_download(s, 45)
    assert (second["status"], second["failure_cause"]) == ("failed", "quota_exceeded")
    assert "0.2 are left today and this one lasts 0.8" in second["failure_details"]
    assert s.keys.used(made.row["id"], "source_seconds") == 45      # the refused one rolled back
    assert second["video_id"] not in s.checkpoints.tables["media"]


def test_anonymous_downloads_are_not_charged(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions())
    assert _run_download(s, 10_000)["pipeline_step"] == "transcribe" and s.keys.charges == {}


def test_a_resumable_upload_is_refused_before_its_bytes_when_the_quota_is_spent(s, tmp_path):
    from server.usecases import uploads
    videos = keys.create(s, "videos", videos_per_day=1)
    assert uploads.create(s, "talk.mp4", 1000, videos.row["id"])["upload_id"]     # room: it opens
    submit_url(s, "https://example.com/a.mp4", SubmitOptions(), videos.row["id"])
    with pytest.raises(Refused) as e:
        uploads.create(s, "talk.mp4", 1000, videos.row["id"])
    assert e.value.reason == "rate_limited" and "1 videos a day" in e.value.message
    assert e.value.extra["retry_after_s"] == 3600
    minutes = keys.create(s, "minutes", source_minutes_per_day=0.5)
    path = tmp_path / "a.mp4"
    path.write_bytes(b"MEDIA 30")
    submit_file(s, path, filename="a.mp4", opts=SubmitOptions(), key_id=minutes.row["id"])
    with pytest.raises(Refused) as e:
        uploads.create(s, "b.mp4", 1000, minutes.row["id"])
    assert "minutes of source video a day" in e.value.message
    assert uploads.create(s, "c.mp4", 1000)["upload_id"]                          # no key, no quota
