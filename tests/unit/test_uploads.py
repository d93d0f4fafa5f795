"""Resumable uploads over in-memory stores: chunks in any order, repeats, gaps, checksum."""
from __future__ import annotations

import hashlib
import io

import pytest

from server.usecases import Refused, uploads
from tests.support.fakes import fake_services

VIDEO = b"MEDIA 20 " + bytes(range(256)) * 40


@pytest.fixture
def s(tmp_path):
    return fake_services(tmp_path, max_upload_bytes=1 << 20)


def put(s, uid, start, data):
    return uploads.put_chunk(s, uid, start, start + len(data) - 1, len(VIDEO), io.BytesIO(data), len(data))


def test_chunks_in_any_order_then_completion_queues_the_file(s):
    uid = uploads.create(s, "talk.mp4", len(VIDEO))["upload_id"]
    step = 4096
    chunks = [(i, VIDEO[i:i + step]) for i in range(0, len(VIDEO), step)]
    for start, data in reversed(chunks[1:]):
        put(s, uid, start, data)
    state = put(s, uid, *chunks[-1])                    # the same chunk twice
    assert state["missing"] == [f"0-{step - 1}"] and state["received_bytes"] == len(VIDEO) - step
    with pytest.raises(Refused) as e:
        uploads.complete(s, uid, hashlib.sha256(VIDEO).hexdigest())
    assert e.value.reason == "conflict" and e.value.extra["missing"] == [f"0-{step - 1}"]
    put(s, uid, *chunks[0])
    with pytest.raises(Refused) as e:
        uploads.complete(s, uid, "0" * 64)
    assert e.value.reason == "mismatch" and s.jobs.rows == {}
    token = uploads.complete(s, uid, hashlib.sha256(VIDEO).hexdigest().upper())
    assert uploads.complete(s, uid, "whatever: already complete") == token
    [video] = s.videos.rows.values()
    assert video["source_fingerprint"] == "sha256:" + hashlib.sha256(VIDEO).hexdigest()
    assert s.storage.local_path(video["upload_key"]).read_bytes() == VIDEO
    with pytest.raises(Refused) as e:
        put(s, uid, *chunks[0])
    assert e.value.reason == "conflict"


def test_a_refused_file_leaves_the_upload_open_to_try_again(s):
    data = b"not a video" * 100
    uid = uploads.create(s, "x.mp4", len(data))["upload_id"]
    uploads.put_chunk(s, uid, 0, len(data) - 1, len(data), io.BytesIO(data), len(data))
    with pytest.raises(Refused) as e:
        uploads.complete(s, uid, hashlib.sha256(data).hexdigest())
    assert e.value.reason == "unsupported"
    assert s.uploads.get(uid)["status"] == "open" and s.jobs.rows == {}


@pytest.mark.parametrize("start, end, total, body, words", [
    (0, 2, 99, b"abc", "size 99"),
    (98, 100, 100, b"abc", "outside"),
    (5, 2, 100, b"abc", "outside"),
    (0, 9, 100, b"abc", "body has 3 bytes"),
])
def test_bad_ranges_store_nothing(s, start, end, total, body, words):
    uid = uploads.create(s, "a.mp4", 100)["upload_id"]
    with pytest.raises(Refused) as e:
        uploads.put_chunk(s, uid, start, end, total, io.BytesIO(body), len(body))
    assert words in e.value.message
    assert uploads.progress(s, s.uploads.get(uid))["received_bytes"] == 0


def test_a_body_cut_short_is_not_recorded(s):
    uid = uploads.create(s, "a.mp4", 100)["upload_id"]
    with pytest.raises(Refused) as e:
        uploads.put_chunk(s, uid, 0, 9, 100, io.BytesIO(b"abc"), None)
    assert "ended after 3 of 10 bytes" in e.value.message
    assert s.uploads.ranges(uid) == []


def test_too_large_and_unknown(s):
    with pytest.raises(Refused) as e:
        uploads.create(s, "big.mp4", 2 << 20)
    assert e.value.reason == "too_large"
    with pytest.raises(Refused) as e:
        uploads.find(s, "nope")
    assert e.value.reason == "not_found"
