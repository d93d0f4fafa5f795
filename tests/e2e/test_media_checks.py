"""Media that comes by URL passes the same checks as an upload: an empty, unreadable or
truncated download fails the job at once with `corrupt_media` (real yt-dlp against a local
server, real probing). Neither the job's details nor an upload's 415 names a server path."""
from __future__ import annotations

import io

import pytest

from server.worker import Worker
from tests.support.noop_workers import claim


def run_download(services):
    worker = Worker(services, steps=("download",), concurrency=1)
    try:
        [job] = claim(services, ("download",), 1, 30)
        worker.run_step(job)
    finally:
        worker.shutdown(1)


@pytest.mark.parametrize("name, make, fragment", [
    ("empty.mp4", lambda video: b"", "empty"),
    ("cut.mp4", lambda video: video[: len(video) * 3 // 4], "cut short"),
    ("noise.mp4", lambda video: b"not a video at all " * 500, "could not be read as media"),
])
def test_a_bad_download_fails_at_once(client, services, media_server, media_dir, tiny_video,
                                      name, make, fragment):
    (media_dir / name).write_bytes(make(tiny_video.read_bytes()))
    token = client.post("/public/video", json={"video_url": media_server.url(name)}).json["token"]
    run_download(services)
    status = client.get(f"/public/video/status?token={token}").json
    assert (status["status"], status["failure_cause"]) == ("failed", "corrupt_media"), status
    assert status["steps"][0]["attempts"] == 1
    details = status["failure_details"]
    assert fragment in details
    assert "/" not in details, details           # no path of the server's (nor any URL)
    assert not (services.cfg.data_dir / "work" / token / "download").exists()


def test_a_complete_download_still_passes(client, services, media_server, media_dir, tiny_video):
    (media_dir / "ok.mp4").write_bytes(tiny_video.read_bytes())
    token = client.post("/public/video", json={"video_url": media_server.url("ok.mp4")}).json["token"]
    run_download(services)
    status = client.get(f"/public/video/status?token={token}").json
    assert status["pipeline_step"] == "transcribe" and status["failure_cause"] is None, status


@pytest.mark.parametrize("make", [lambda video: b"not a video at all " * 500,
                                  lambda video: video[: len(video) // 3],
                                  lambda video: video[: len(video) * 3 // 4]])
def test_an_unusable_upload_is_refused_without_a_path(client, services, tiny_video, make):
    r = client.post("/public/video", content_type="multipart/form-data",
                    data={"file": (io.BytesIO(make(tiny_video.read_bytes())), "talk.mp4")})
    assert r.status_code == 415 and "not a usable video" in r.json["error"]
    assert "/" not in r.json["error"], r.json["error"]
