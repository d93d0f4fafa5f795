"""The Supabase Storage backend against a local server that speaks Storage's REST API."""
from __future__ import annotations

import httpx
import psycopg
import pytest
from scripts.fake_supabase_storage import FakeStorage

from server.adapters.storage_supabase import SupabaseStorage
from server.core.failures import StepError

KEY = "service-role-key-for-tests"


@pytest.fixture
def fake():
    with FakeStorage(KEY, "media", size_limit=1 << 20) as srv:
        yield srv


@pytest.fixture
def storage(fake, tmp_path):
    return SupabaseStorage(fake.url, KEY, "media", tmp_path / "cache", signed_url_s=600)


def _file(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_uploads_with_content_type_and_keeps_a_cached_copy(fake, storage, tmp_path):
    src = _file(tmp_path, "clip.mp4", b"\x00video" * 1000)
    storage.put("videos/tok/clips/00.mp4", src, "video/mp4")
    assert fake.objects[("media", "videos/tok/clips/00.mp4")] == (b"\x00video" * 1000, "video/mp4")
    assert not src.exists()                          # consumed, like LocalStorage
    before = len(fake.requests)
    assert storage.local_path("videos/tok/clips/00.mp4").read_bytes() == b"\x00video" * 1000
    assert len(fake.requests) == before              # served from the cache


def test_local_path_downloads_into_an_empty_cache(fake, storage, tmp_path):
    fake.objects[("media", "uploads/tok/source.mp4")] = (b"source bytes", "video/mp4")
    path = storage.local_path("uploads/tok/source.mp4")
    assert path.read_bytes() == b"source bytes"
    assert path.is_relative_to(tmp_path / "cache")
    with pytest.raises(FileNotFoundError):
        storage.local_path("uploads/tok/missing.mp4")


def test_second_put_of_the_same_key_replaces_it(fake, storage, tmp_path):
    # A retried render uploads the same key again: it must not fail as a duplicate.
    storage.put("videos/tok/clips/00.jpg", _file(tmp_path, "a.jpg", b"first"), "image/jpeg")
    storage.put("videos/tok/clips/00.jpg", _file(tmp_path, "b.jpg", b"second"), "image/jpeg")
    assert fake.objects[("media", "videos/tok/clips/00.jpg")] == (b"second", "image/jpeg")


def test_put_replaces_an_object_another_writer_stored_first(fake, storage, tmp_path):
    # A render retried on another worker finds its clip already in the bucket, put there by
    # the attempt that lost its lease. The fake refuses a duplicate unless the client asks
    # for an upsert, as Storage does, so this fails if the adapter stops asking.
    fake.objects[("media", "videos/tok/clips/01.mp4")] = (b"from the lost attempt", "video/mp4")
    storage.put("videos/tok/clips/01.mp4", _file(tmp_path, "d.mp4", b"from the retry"), "video/mp4")
    assert fake.objects[("media", "videos/tok/clips/01.mp4")] == (b"from the retry", "video/mp4")
    assert storage.local_path("videos/tok/clips/01.mp4").read_bytes() == b"from the retry"


def test_signed_url_fetches_the_object_and_is_reused_while_fresh(fake, storage, tmp_path):
    storage.put("videos/tok/clips/00.mp4", _file(tmp_path, "c.mp4", b"clip"), "video/mp4")
    url = storage.url("videos/tok/clips/00.mp4")
    assert url.startswith(fake.url + "/storage/v1/object/sign/media/videos/tok/clips/00.mp4?token=")
    r = httpx.get(url)
    assert r.status_code == 200 and r.content == b"clip" and r.headers["content-type"] == "video/mp4"
    before = len(fake.requests)
    assert storage.url("videos/tok/clips/00.mp4") == url
    assert len(fake.requests) == before
    tampered = httpx.get(url[:-1] + ("0" if url[-1] != "0" else "1"))
    assert tampered.status_code == 400 and tampered.json()["error"] == "InvalidJWT"


def test_delete_prefix_removes_nested_objects_only_under_it(fake, storage):
    for key in ("videos/tok/source.mp4", "videos/tok/clips/00.mp4", "videos/tok/clips/00.jpg",
                "videos/other/source.mp4"):
        fake.objects[("media", key)] = (b"x", "video/mp4")
    storage.delete_prefix("videos/tok")
    assert set(fake.objects) == {("media", "videos/other/source.mp4")}


def test_wrong_key_is_a_fatal_rejection(fake, tmp_path):
    bad = SupabaseStorage(fake.url, "not-the-key", "media", tmp_path / "c2")
    with pytest.raises(StepError) as e:
        bad.put("videos/t/a.mp4", _file(tmp_path, "a.mp4", b"a"), "video/mp4")
    assert e.value.cause == "storage_rejected" and not e.value.retryable
    assert "invalid signature" in str(e.value)


def test_missing_bucket_is_a_fatal_rejection(fake, tmp_path):
    wrong = SupabaseStorage(fake.url, KEY, "no-such-bucket", tmp_path / "c3")
    with pytest.raises(StepError) as e:
        wrong.put("videos/t/a.mp4", _file(tmp_path, "a.mp4", b"a"), "video/mp4")
    assert e.value.cause == "storage_rejected" and "Bucket not found" in str(e.value)


def test_too_large_and_wrong_type_are_fatal(fake, storage, tmp_path):
    with pytest.raises(StepError) as e:
        storage.put("videos/t/big.mp4", _file(tmp_path, "big.mp4", b"x" * (2 << 20)), "video/mp4")
    assert e.value.cause == "too_large" and not e.value.retryable
    with pytest.raises(StepError) as e:
        storage.put("videos/t/a.exe", _file(tmp_path, "a.exe", b"MZ"), "application/x-msdownload")
    assert e.value.cause == "storage_rejected" and "mime type" in str(e.value)


def test_outages_are_retryable(fake, storage, tmp_path):
    fake.fail_next(1, 500)
    with pytest.raises(StepError) as e:
        storage.put("videos/t/a.mp4", _file(tmp_path, "a.mp4", b"a"), "video/mp4")
    assert e.value.cause == "storage_unavailable" and e.value.retryable
    fake.objects[("media", "videos/t/b.mp4")] = (b"b", "video/mp4")
    fake.fail_next(1, 503)
    with pytest.raises(StepError) as e:
        storage.local_path("videos/t/b.mp4")
    assert e.value.retryable
    assert storage.local_path("videos/t/b.mp4").read_bytes() == b"b"      # the next try works


def test_unreachable_storage_is_retryable(tmp_path):
    down = SupabaseStorage("http://127.0.0.1:9", KEY, "media", tmp_path / "c4", timeout_s=2)
    with pytest.raises(StepError) as e:
        down.url("videos/t/a.mp4")
    assert e.value.cause == "storage_unavailable" and e.value.retryable


def test_cache_evicts_least_recently_used(fake, tmp_path):
    small = SupabaseStorage(fake.url, KEY, "media", tmp_path / "small", cache_max_bytes=1500)
    small.put("videos/t/1.mp4", _file(tmp_path, "1.mp4", b"1" * 1000), "video/mp4")
    small.put("videos/t/2.mp4", _file(tmp_path, "2.mp4", b"2" * 1000), "video/mp4")
    assert not (tmp_path / "small" / "videos/t/1.mp4").exists()
    assert (tmp_path / "small" / "videos/t/2.mp4").exists()
    assert small.local_path("videos/t/1.mp4").read_bytes() == b"1" * 1000   # fetched again


def test_status_returns_signed_urls(fake, app_config):
    from server import create_app
    app = create_app({**app_config, "storage_backend": "supabase", "supabase_url": fake.url,
                      "supabase_service_key": KEY, "supabase_bucket": "media"})
    try:
        for key, mime in (("videos/tok123/clips/00.mp4", "video/mp4"),
                          ("videos/tok123/clips/00.jpg", "image/jpeg")):
            fake.objects[("media", key)] = (key.encode(), mime)
        with psycopg.connect(app_config["database_url"], autocommit=True) as conn:
            vid = conn.execute("""insert into videos (token, source_kind, source_url, source_fingerprint)
                                  values ('tok123', 'url', 'http://x/v.mp4', 'http://x/v.mp4')
                                  returning id""").fetchone()[0]
            conn.execute("""insert into video_processing_queue (video_id, pipeline_step, status)
                            values (%s, 'done', 'completed')""", (vid,))
            conn.execute("""insert into video_clips (video_id, clip_index, start_s, end_s, title,
                                reason, score, video_key, thumbnail_key)
                            values (%s, 0, 1, 20, 't', 'r', 50, 'videos/tok123/clips/00.mp4',
                                    'videos/tok123/clips/00.jpg')""", (vid,))
        body = app.test_client().get("/public/video/status?token=tok123").get_json()
        clip = body["clips"][0]
        assert clip["url"].startswith(fake.url + "/storage/v1/object/sign/media/videos/tok123/clips/00.mp4?token=")
        assert httpx.get(clip["url"]).content == b"videos/tok123/clips/00.mp4"
        assert httpx.get(clip["thumbnail_url"]).headers["content-type"] == "image/jpeg"
        # The server does not proxy Storage objects: signed URLs are the only way in.
        assert app.test_client().get("/public/media/videos/tok123/clips/00.mp4").status_code == 404
    finally:
        app.extensions["services"].db.close()


def test_urls_signs_many_objects_in_one_request_and_reuses_them(fake, storage):
    keys = [f"videos/tok/clips/{i:02d}{ext}" for i in range(3)
            for ext in (".mp4", ".jpg", ".srt", ".vtt", ".json")]
    for key in keys:
        fake.objects[("media", key)] = (key.encode(), "application/octet-stream")
    before = len(fake.requests)
    signed = storage.urls(keys + ["videos/tok/clips/09.mp4"])     # one object is missing
    assert fake.requests[before:] == [("POST", "/storage/v1/object/sign/media")]
    assert set(signed) == set(keys)
    assert httpx.get(signed[keys[7]]).content == keys[7].encode()
    before = len(fake.requests)
    assert storage.urls(keys) == signed and storage.url(keys[0]) == signed[keys[0]]
    assert len(fake.requests) == before                            # reused while fresh


def _large(tmp_path, size: int):
    data = bytes(range(256)) * (size // 256)
    return _file(tmp_path, "source.mp4", data), data


@pytest.fixture
def resumable(fake, tmp_path):
    """Files above 1 MiB go through the resumable endpoint; no waiting between retries."""
    return SupabaseStorage(fake.url, KEY, "media", tmp_path / "rcache", resumable_above_bytes=1 << 20,
                           resumable_backoff_s=0)


def test_a_large_file_goes_up_in_resumable_chunks(fake, resumable, tmp_path):
    fake.buckets["media"]["size_limit"] = 64 << 20
    src, data = _large(tmp_path, 20 << 20)
    resumable.put("videos/tok/source.mp4", src, "video/mp4")
    assert fake.objects[("media", "videos/tok/source.mp4")] == (data, "video/mp4")
    methods = [m for m, p in fake.requests if p.startswith("/storage/v1/upload/resumable")]
    assert methods == ["POST", "PATCH", "PATCH", "PATCH", "PATCH"]       # 6 + 6 + 6 + 2 MiB
    assert resumable.local_path("videos/tok/source.mp4").read_bytes() == data   # the cached copy


@pytest.mark.parametrize("status", [503, 0])              # 0: the connection drops mid-chunk
def test_a_failed_chunk_resumes_from_the_servers_offset(fake, resumable, tmp_path, status):
    fake.buckets["media"]["size_limit"] = 64 << 20
    src, data = _large(tmp_path, 14 << 20)
    fake.fail_next(2, status, method="PATCH")
    resumable.put("videos/tok/source.mp4", src, "video/mp4")
    assert fake.objects[("media", "videos/tok/source.mp4")][0] == data
    methods = [m for m, p in fake.requests if p.startswith("/storage/v1/upload/resumable")]
    assert methods.count("HEAD") == 2 and methods.count("PATCH") == 3 + 2


def test_resumable_uploads_give_up_as_retryable_and_refuse_what_the_bucket_refuses(fake, resumable, tmp_path):
    fake.buckets["media"]["size_limit"] = 64 << 20
    src, _ = _large(tmp_path, 8 << 20)
    fake.fail_next(10, 503, method="PATCH")
    with pytest.raises(StepError) as e:
        resumable.put("videos/tok/source.mp4", src, "video/mp4")
    assert e.value.cause == "storage_unavailable" and e.value.retryable
    fake._failures.clear()
    with pytest.raises(StepError) as e:
        resumable.put("videos/tok/a.exe", src, "application/x-msdownload")
    assert e.value.cause == "storage_rejected" and "415" in str(e.value)
    fake.buckets["media"]["size_limit"] = 4 << 20
    with pytest.raises(StepError) as e:
        resumable.put("videos/tok/source.mp4", src, "video/mp4")
    assert e.value.cause == "too_large"
