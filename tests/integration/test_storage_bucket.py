"""The media bucket allows every content type the server writes: `supabase/config.toml`
against `server/core/media_types.py`, then a whole video rendered into a Storage stand-in
configured from that file (which refuses other types with 415, as Supabase does)."""
from __future__ import annotations

import re
import tomllib

import httpx

from scripts.fake_supabase_storage import CONFIG_TOML, FakeStorage, bucket_config
from server.core.media_types import RENDERED, bucket_allowed_types
from tests.support import ROOT, copy_to
from tests.support.pipeline_checks import run_through_api

KEY = "service-role-key-for-tests"


def test_the_bucket_allows_exactly_the_types_the_server_writes():
    declared = tomllib.loads(CONFIG_TOML.read_text())["storage"]["buckets"]["media"]
    assert sorted(declared["allowed_mime_types"]) == bucket_allowed_types()


def test_every_upload_takes_its_type_from_the_one_table():
    literal = re.compile(r"""storage\.put\([^)]*["'][a-z]+/[\w.+-]+["']""")
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "server").rglob("*.py")
                 if literal.search(p.read_text())]
    assert offenders == [], "pass content_type(key) from server.core.media_types instead"


def test_a_whole_video_renders_into_the_bucket_as_configured(app_config, short_talk, media_dir,
                                                            media_server):
    from server import create_app
    bucket = bucket_config("media")
    with FakeStorage(KEY, "media") as fake:
        assert fake.buckets["media"]["allowed"] == bucket["allowed"]
        app = create_app({**app_config, "storage_backend": "supabase", "supabase_url": fake.url,
                          "supabase_service_key": KEY, "supabase_bucket": "media"})
        try:
            body = run_through_api(app.test_client(), media_server.url(copy_to(media_dir, short_talk[0])))
        finally:
            worker = app.extensions.get("worker")
            if worker is not None:
                worker.shutdown(grace_s=5)
            app.extensions["services"].db.close()
        stored = {key: mime for (_, key), (_, mime) in fake.objects.items()}
        assert body["clips"], body
        assert set(RENDERED.values()) <= set(stored.values()), stored
        for clip in body["clips"]:
            for field, mime in (("url", "video/mp4"), ("thumbnail_url", "image/jpeg"),
                                ("srt_url", "application/x-subrip"), ("vtt_url", "text/vtt"),
                                ("manifest_url", "application/json")):
                r = httpx.get(clip[field])
                assert r.status_code == 200 and r.headers["content-type"] == mime, (field, r.text[:200])
