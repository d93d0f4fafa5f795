"""The media endpoint (local storage): folders are not files, and Range headers follow
RFC 9110."""
from __future__ import annotations

import pytest

BODY = bytes(range(256)) * 40          # 10,240 bytes
KEY = "videos/Tok3nTok3nTok3n/clips/00.mp4"


@pytest.fixture
def clip(services, tmp_path):
    src = tmp_path / "00.mp4"
    src.write_bytes(BODY)
    services.storage.put(KEY, src, "video/mp4")
    return "/public/media/" + KEY


@pytest.mark.parametrize("folder", ["videos/Tok3nTok3nTok3n/", "videos/Tok3nTok3nTok3n",
                                    "videos/Tok3nTok3nTok3n/clips", "videos/Tok3nTok3nTok3n/clips/"])
def test_a_folder_is_not_found(client, clip, folder):
    r = client.get("/public/media/" + folder)
    assert r.status_code == 404 and r.json == {"error": "not found"}


def test_single_range(client, clip):
    r = client.get(clip, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes 100-199/{len(BODY)}"
    assert r.data == BODY[100:200]


@pytest.mark.parametrize("header", ["bytes=abc", "bytes=5-2", "pages=1-2", "bytes=", "bytes=0-1,5-6",
                                    "bytes=0-99, 200-299, 400-"])
def test_malformed_or_multiple_ranges_get_the_whole_file(client, clip, header):
    r = client.get(clip, headers={"Range": header})
    assert r.status_code == 200, header
    assert r.data == BODY
    assert "Content-Range" not in r.headers


def test_unsatisfiable_range_names_the_size(client, clip):
    r = client.get(clip, headers={"Range": "bytes=20000-30000"})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{len(BODY)}"
    assert "error" in r.json
