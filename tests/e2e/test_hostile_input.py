"""Ordinary bad input from a hostile or careless client, sent as raw bytes over HTTP to a
live `python -m server serve` (issue 11, items 3, 4 and 6). Each must get a 4xx whose JSON
`error` names the problem, and none may queue anything or reach the database as text it
refuses (NUL, lone surrogates)."""
from __future__ import annotations


import psycopg
import pytest
import requests

from scripts.live_server import live_server
from tests.support import INTERNAL_TOKEN

JSON = "application/json"
URL = b'"https://example.com/a.mp4"'


@pytest.fixture(scope="module")
def live(database_url, tmp_path_factory):
    """One gunicorn for the module, on the session's database."""
    with live_server(tmp_path_factory.mktemp("hostile-data"), database_url,
                     GUNICORN_WORKERS="1", GUNICORN_THREADS="2",
                     INTERNAL_API_TOKEN=INTERNAL_TOKEN) as server:
        yield server.url
    assert "Traceback" not in server.output, server.output[-3000:]     # no request crashed a view


def queued(url) -> int:
    with psycopg.connect(url) as c:
        return c.execute("select count(*) from video_processing_queue").fetchone()[0]


def post(base, path, body: bytes, content_type=JSON, headers=None):
    return requests.post(base + path, data=body, timeout=10,
                         headers={"Content-Type": content_type, **(headers or {})})


def multipart(parts: list[tuple[bytes, bytes]]) -> tuple[bytes, str]:
    """A multipart body from (Content-Disposition parameters, content) pairs, bytes as given."""
    body = b""
    for disposition, content in parts:
        body += b"--XB\r\nContent-Disposition: form-data; " + disposition + b"\r\n\r\n" + content + b"\r\n"
    return body + b"--XB--\r\n", "multipart/form-data; boundary=XB"


def refused(r, status, *words):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith(JSON), r.headers
    for word in words:
        assert word in r.json()["error"], (word, r.json())


# -- item 3: priority ----------------------------------------------------------------------

@pytest.mark.parametrize("value", [b"1e400", b"-1e400", b"Infinity", b"-Infinity", b"NaN", b"1.9",
                                   b"1.0", b"1e2", b"true", b"false", b'"5"', b"null", b"[1]"])
def test_priority_must_be_a_json_integer(live, clean_db, value):
    r = post(live, "/public/video", b'{"video_url": ' + URL + b', "priority": ' + value + b"}")
    refused(r, 400, "priority")
    assert queued(clean_db) == 0


def test_priority_out_of_range_and_huge_integers(live, clean_db):
    for value in (b"101", b"-101", b"1" + b"0" * 400):
        r = post(live, "/public/video", b'{"video_url": ' + URL + b', "priority": ' + value + b"}")
        refused(r, 400, "priority")
    assert queued(clean_db) == 0


@pytest.mark.parametrize("value", [b"1e400", b"Infinity", b"NaN", b"1.9", b"1.0", b"1e2", b"true",
                                   b"", b"5 5", b"1" + b"0" * 400])
def test_priority_in_a_form_must_be_a_whole_number(live, clean_db, tiny_video, value):
    body, ctype = multipart([(b'name="file"; filename="t.mp4"', tiny_video.read_bytes()),
                             (b'name="priority"', value)])
    refused(post(live, "/public/video", body, ctype), 400, "priority")
    assert queued(clean_db) == 0


# -- item 4: NUL and lone surrogates --------------------------------------------------------

@pytest.mark.parametrize("raw, words", [
    (b'{"video_url": "https://example.com/a\\u0000.mp4"}', ("video_url", "control characters")),
    (b'{"video_url": "https://example.com/a\x00.mp4"}', ("not valid JSON",)),      # a raw NUL
    (b'{"video_url": "https://example.com/a\\ud800.mp4"}', ("not valid JSON",)),
    (b'{"video_url": "https://example.com/a\\udc00"}', ("not valid JSON", "surrogate")),
    (b'{"video_url": "https://example.com/a\xed\xa0\x80.mp4"}', ("not valid JSON",)),  # its bytes
    (b'{"video_url": "https://example.com/a\xff.mp4"}', ("not valid JSON",)),
    (b'\xff\xfe{\x00}\x00', ("not valid JSON",)),
    (b'{"\\ud800": 1}', ("not valid JSON",)),
])
def test_nul_and_lone_surrogates_in_a_url_are_refused(live, clean_db, raw, words):
    refused(post(live, "/public/video", raw), 400, *words)
    assert queued(clean_db) == 0


@pytest.mark.parametrize("filename", [b"a\xed\xa0\x80.mp4", b"\xed\xb0\x80", b"a\xff.mp4", b"a\xc0\xae.mp4"])
@pytest.mark.parametrize("path", ["/public/video", "/public/audio/enhance"])
def test_a_file_name_that_is_not_utf8_is_refused_by_name(live, clean_db, tiny_video, filename, path):
    """A lone surrogate can only arrive as its bytes (ED A0 80): Werkzeug used to drop the
    whole form and the client was told its file was missing."""
    body, ctype = multipart([(b'name="file"; filename="' + filename + b'"', tiny_video.read_bytes())])
    refused(post(live, path, body, ctype), 400, "multipart form is malformed", "UTF-8")
    assert queued(clean_db) == 0


@pytest.mark.parametrize("disposition", [b"filename*=UTF-8''a%ED%A0%80.mp4", b"filename*=UTF-8''%00a.mp4",
                                         b'filename="a\x00b.mp4"'])
def test_encoded_surrogates_and_nul_in_a_file_name_never_reach_the_database(live, clean_db, tiny_video,
                                                                            disposition):
    """Percent-encoded, a surrogate decodes to U+FFFD and a NUL is dropped: the upload is
    taken, with a title Postgres can store."""
    body, ctype = multipart([(b'name="file"; ' + disposition, tiny_video.read_bytes())])
    r = post(live, "/public/video", body, ctype)
    assert r.status_code == 202, r.text
    title = requests.get(live + "/public/video/status", params={"token": r.json()["token"]},
                         timeout=10).json()["video"]["title"]
    assert "\x00" not in title and not any(0xD800 <= ord(ch) <= 0xDFFF for ch in title)


@pytest.mark.parametrize("raw, words", [
    (b'{"filename": "a\\ud800.mp4", "size": 10}', ("not valid JSON",)),
    (b'{"filename": "a\\u0000.mp4", "size": 10}', ("filename", "control characters")),
    (b'{"filename": "a.mp4", "size": 1e400}', ("size",)),
    (b'{"filename": "a.mp4", "size": true}', ("size",)),
    (b'{"filename": "a.mp4", "size": 10.0}', ("size",)),
])
def test_resumable_upload_names_and_sizes(live, clean_db, raw, words):
    refused(post(live, "/public/uploads", raw), 400, *words)


def test_nul_and_surrogates_in_headers_and_tokens(live, clean_db):
    # The HTTP server itself refuses a control character in a header (the app's own check,
    # for servers that let it through, is in test_http_policy).
    r = post(live, "/public/video", b'{"video_url": ' + URL + b"}", headers={"Idempotency-Key": "k\x01y"})
    assert r.status_code == 400
    refused(requests.get(live + "/public/video/status?token=a%00b", timeout=10), 400, "token")
    refused(requests.get(live + "/public/video/status?token=%ED%A0%80", timeout=10), 400, "token")
    refused(post(live, "/public/video/cancel", b'{"token": "\\ud800"}'), 400, "not valid JSON")
    assert queued(clean_db) == 0


# -- item 6: the internal endpoint's limit --------------------------------------------------

@pytest.mark.parametrize("value", [b"true", b"false", b"1.5", b"1.0", b"1e400", b"Infinity", b'"2"', b"0",
                                   b"-1", b"[]"])
def test_the_internal_limit_must_be_a_positive_integer(live, clean_db, value):
    r = post(live, "/internal/perform-video-processing", b'{"limit": ' + value + b"}",
             headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    refused(r, 400, "limit")


def test_the_internal_limit_is_checked_only_after_the_token(live, clean_db):
    r = post(live, "/internal/perform-video-processing", b'{"limit": true}')
    refused(r, 401, "Bearer")
