"""Submitting: the one path every source takes, over in-memory stores."""
from __future__ import annotations

import pytest

from server.usecases import Refused
from server.usecases.submit import SubmitOptions, submit_file, submit_local_file, submit_url
from tests.support.fakes import fake_services


@pytest.fixture
def s(tmp_path):
    return fake_services(tmp_path, allow_private_urls=True, max_duration_s=100.0)


def media(tmp_path, name="talk.mp4", data=b"MEDIA 30 rest of the file"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_url_is_queued_with_its_options_and_the_defaults_filled_in(s):
    token = submit_url(s, " https://Example.com:443/talk.mp4?b=2&a=1 ", SubmitOptions(format="vertical", priority=7))
    [video] = s.videos.rows.values()
    assert video["token"] == token and video["source_url"] == "https://Example.com:443/talk.mp4?b=2&a=1"
    assert video["source_fingerprint"] == "https://example.com/talk.mp4?a=1&b=2"
    assert video["options"] == {"format": "vertical", "captions": True, "enhance": False,
                                "caption_style": {"preset": "classic", "size": "medium",
                                                  "highlight": "#FFD600", "position": "bottom"}}
    [job] = s.jobs.rows.values()
    assert (job["status"], job["pipeline_step"], job["priority"]) == ("queued", "download", 7)


def test_caption_style_clip_controls_and_language_are_stored(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions(
        caption_style={"preset": "headline", "highlight": "#00ff00"}, min_clip_s=20, max_clip_s=40,
        max_clips=2, topic="  tides ", language="de"))
    [video] = s.videos.rows.values()
    assert video["options"]["caption_style"] == {"preset": "headline", "size": "large",
                                                 "highlight": "#00FF00", "position": "top"}
    assert {k: video["options"][k] for k in ("min_clip_s", "max_clip_s", "max_clips", "topic", "language")} \
        == {"min_clip_s": 20, "max_clip_s": 40, "max_clips": 2, "topic": "tides", "language": "de"}


def test_unset_clip_controls_are_not_stored(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions(topic="   "))
    [video] = s.videos.rows.values()
    assert not {"min_clip_s", "max_clip_s", "max_clips", "topic", "language"} & set(video["options"])


def test_force_is_stored_only_when_asked(s):
    submit_url(s, "https://example.com/a.mp4", SubmitOptions(force=True))
    assert [v["options"].get("force") for v in s.videos.rows.values()] == [True]


@pytest.mark.parametrize("url, words", [("ftp://example.com/a", "http or https"),
                                        ("https://u:p@example.com/a", "credentials")])
def test_an_unsafe_url_is_refused_and_nothing_is_queued(s, url, words):
    with pytest.raises(Refused) as e:
        submit_url(s, url, SubmitOptions())
    assert e.value.reason == "invalid" and words in e.value.message
    assert s.jobs.rows == {}


def test_private_addresses_are_refused_unless_allowed(tmp_path):
    s = fake_services(tmp_path, allow_private_urls=False)
    with pytest.raises(Refused) as e:
        submit_url(s, "http://127.0.0.1/a.mp4", SubmitOptions())
    assert "non-public" in e.value.message and s.jobs.rows == {}


def test_the_same_idempotency_key_and_request_return_the_first_token(s):
    a = submit_url(s, "https://example.com/a.mp4", SubmitOptions(idempotency_key="k", priority=3))
    b = submit_url(s, "https://EXAMPLE.com/a.mp4", SubmitOptions(idempotency_key="k", priority=3))
    assert a == b and len(s.jobs.rows) == 1


@pytest.mark.parametrize("other", [
    {"url": "https://example.com/b.mp4"},                       # another source
    {"opts": {"priority": 4}},                                  # another choice
    {"opts": {"webhook_url": "https://example.com/hook"}},      # a webhook the first had not
])
def test_an_idempotency_key_reused_with_another_request_is_refused(s, other):
    # Issue 11 item 8: the key used to hand out the first request's token to anyone.
    first = submit_url(s, "https://example.com/a.mp4", SubmitOptions(idempotency_key="k", priority=3))
    s.cfg.webhook_secret = "whsec_" + "A" * 43 + "="
    with pytest.raises(Refused) as e:
        submit_url(s, other.get("url", "https://example.com/a.mp4"),
                   SubmitOptions(idempotency_key="k", **{"priority": 3, **other.get("opts", {})}))
    assert e.value.reason == "mismatch" and first not in e.value.message
    assert len(s.jobs.rows) == 1


def test_idempotency_keys_are_scoped_to_the_api_key(s):
    s.keys.create(name="a", prefix="", key_hash="ha", webhook_secret="", rate_per_min=None,
                  videos_per_day=None, source_minutes_per_day=None)
    s.keys.create(name="b", prefix="", key_hash="hb", webhook_secret="", rate_per_min=None,
                  videos_per_day=None, source_minutes_per_day=None)
    url, opts = "https://example.com/a.mp4", SubmitOptions(idempotency_key="k")
    mine, theirs, anonymous = submit_url(s, url, opts, 1), submit_url(s, url, opts, 2), submit_url(s, url, opts)
    assert len({mine, theirs, anonymous}) == 3 and len(s.jobs.rows) == 3
    assert submit_url(s, url, opts, 1) == mine


def test_a_file_is_stored_under_its_token_and_fingerprinted_by_content(s, tmp_path):
    path = media(tmp_path)
    token = submit_file(s, path, filename="My\x01 Talk.MP4", opts=SubmitOptions())
    [video] = s.videos.rows.values()
    assert video["upload_key"] == f"uploads/{token}/source.mp4" and video["title"] == "My Talk"
    assert video["source_fingerprint"] == "sha256:" + s.prober.sha256_of(s.storage.local_path(video["upload_key"]))
    assert s.storage.types[video["upload_key"]] == "video/mp4"     # from the name, not the client


@pytest.mark.parametrize("data, reason, words", [
    (b"not media at all", "unsupported", "not a usable video"),
    (b"MEDIA-CUT 30", "unsupported", "cut short"),
    (b"MEDIA 500", "too_large", "the limit is 100 s"),
])
def test_files_that_are_not_usable_videos_are_refused(s, tmp_path, data, reason, words):
    with pytest.raises(Refused) as e:
        submit_file(s, media(tmp_path, data=data), filename="x.mp4", opts=SubmitOptions())
    assert (e.value.reason, words in e.value.message) == (reason, True)
    assert s.jobs.rows == {} and not (tmp_path / "storage").exists()


def test_the_cli_file_gets_the_same_checks_as_an_upload(s, tmp_path):
    # The CLI used to queue any file with an audio stream, whatever its length.
    with pytest.raises(Refused) as e:
        submit_local_file(s, media(tmp_path, data=b"MEDIA 500"), SubmitOptions())
    assert e.value.reason == "too_large"
    path = media(tmp_path, "keep.mp4")
    token = submit_local_file(s, path, SubmitOptions(enhance=True))
    assert path.exists()                                    # the user's file stays where it was
    [video] = s.videos.rows.values()
    assert video["token"] == token and video["options"]["enhance"] is True
    with pytest.raises(Refused):
        submit_local_file(s, tmp_path / "missing.mp4", SubmitOptions())
