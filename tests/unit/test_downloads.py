"""Taking the work away: names people can file, and a zip streamed a block at a time."""
from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest

from server.api.attachments import content_disposition
from server.core import names
from server.usecases import Refused, downloads
from server.usecases.submit import SubmitOptions, submit_url
from tests.support.fakes import fake_services


@pytest.mark.parametrize("video, index, title, expected", [
    ("My Talk: part 1/2", 2, "Why tides?", "My-Talk-part-1-2-03-Why-tides.mp4"),
    ("東京の話", 0, "Überraschung — ja!", "東京の話-01-Überraschung-ja.mp4"),
    ("../../etc/passwd", 9, "..", "etc-passwd-10-clip.mp4"),
    (None, 0, "\x00\x1f", "video-01-clip.mp4"),
    ("a" * 300, 0, "b_c", "a" * names.PART_MAX + "-01-b-c.mp4"),
])
def test_clip_files_are_named_after_the_video_and_the_clip(video, index, title, expected):
    assert names.clip_file(video, index, title, "mp4") == expected


def test_other_names():
    assert names.transcript_file("talk", "srt") == "talk-transcript.srt"
    assert names.archive_file("") == "video-clips.zip"


def test_content_disposition_keeps_letters_of_every_script():
    assert content_disposition("talk-01-a.mp4") == 'attachment; filename="talk-01-a.mp4"'
    value = content_disposition("東京-01-Über.mp4", attachment=False)
    assert value.startswith('inline; filename="-01-Uber.mp4"; ')
    assert value.endswith("filename*=UTF-8''%E6%9D%B1%E4%BA%AC-01-%C3%9Cber.mp4")


def test_the_zip_is_streamed_without_holding_the_files_in_memory(tmp_path):
    big = tmp_path / "big.mp4"
    with open(big, "wb") as f:           # 48 MiB of varied bytes (zeros would compress away)
        for i in range(48):
            f.write(bytes([i]) * (1 << 19) + bytes(range(256)) * 2048)
    text = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nhello\n" * 1000
    arch = downloads.Archive("x.zip", [
        downloads.Entry("talk-01-big.mp4", open(big, "rb"), big.stat().st_size),
        downloads.Entry("talk-transcript.vtt", io.BytesIO(text.encode()), len(text))])
    out = tmp_path / "out.zip"
    tracemalloc.start()
    blocks = 0
    with open(out, "wb") as f:
        for block in downloads.stream_zip(arch):
            f.write(block)
            blocks += 1
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 6 << 20, f"peak {peak / 2**20:.1f} MiB for a 48 MiB file"
    assert blocks > 40                          # it really went out a block at a time
    with zipfile.ZipFile(out) as zf:
        assert zf.testzip() is None             # every CRC matches
        assert zf.read("talk-01-big.mp4") == big.read_bytes()
        assert zf.read("talk-transcript.vtt").decode() == text
        infos = {i.filename: i for i in zf.infolist()}
    assert infos["talk-01-big.mp4"].compress_type == zipfile.ZIP_STORED
    assert infos["talk-transcript.vtt"].compress_type == zipfile.ZIP_DEFLATED


def test_an_abandoned_stream_closes_its_files(tmp_path):
    f = tmp_path / "a.mp4"
    f.write_bytes(b"x" * (3 << 20))
    handle = open(f, "rb")
    stream = downloads.stream_zip(downloads.Archive("x.zip", [downloads.Entry("a.mp4", handle, 3 << 20)]))
    next(stream)
    stream.close()                               # the client went away
    assert handle.closed


@pytest.fixture
def s(tmp_path):
    return fake_services(tmp_path, allow_private_urls=True)


def rendered_video(s, tmp_path) -> str:
    token = submit_url(s, "https://example.com/talk.mp4", SubmitOptions())
    [row] = s.jobs.rows.values()
    vid = row["video_id"]
    s.videos.rows[vid]["title"] = "Sea & Moon"
    outputs = {}
    for ext in ("mp4", "jpg", "srt", "vtt", "json"):
        src = tmp_path / f"00.{ext}"
        src.write_bytes(f"{ext} bytes".encode())
        s.storage.put(f"videos/{token}/clips/00.{ext}", src, "x")
        outputs[{"srt": "srt", "vtt": "vtt", "json": "manifest"}.get(ext, ext)] = f"videos/{token}/clips/00.{ext}"
    s.checkpoints.clip_rows[vid] = {0: {"clip_index": 0, "start_s": 0.0, "end_s": 5.0, "title": "Tides?",
                                        "reason": "", "hook": "", "score": 50.0,
                                        "video_key": outputs.pop("mp4"), "thumbnail_key": outputs.pop("jpg"),
                                        "outputs": outputs}}
    s.checkpoints.tables["transcript"][vid] = {
        "video_id": vid, "language": "en", "engine": "e", "model": "m", "duration_s": 5.0,
        "segments": [{"start": 0.0, "end": 2.0, "text": "The moon.", "words": []}]}
    return token


def test_the_archive_holds_every_clip_file_and_the_transcript(s, tmp_path):
    token = rendered_video(s, tmp_path)
    arch = downloads.archive(s, token)
    assert arch.name == "Sea-Moon-clips.zip"
    data = b"".join(downloads.stream_zip(arch))
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == sorted(
            [f"Sea-Moon-01-Tides.{e}" for e in ("mp4", "jpg", "srt", "vtt", "json")]
            + [f"Sea-Moon-transcript.{e}" for e in ("srt", "vtt", "json")])
        assert zf.read("Sea-Moon-01-Tides.srt") == b"srt bytes"
        assert "The moon." in zf.read("Sea-Moon-transcript.srt").decode()


def test_one_clip_file_and_its_name(s, tmp_path):
    token = rendered_video(s, tmp_path)
    path, name = downloads.clip_file(s, token, 0, "vtt")
    assert path.read_bytes() == b"vtt bytes" and name == "Sea-Moon-01-Tides.vtt"
    with pytest.raises(Refused) as e:
        downloads.clip_file(s, token, 4, "mp4")
    assert e.value.reason == "not_found"


def test_a_missing_file_is_a_404_before_any_byte_is_sent(s, tmp_path):
    token = rendered_video(s, tmp_path)
    (s.storage.root / f"videos/{token}/clips/00.jpg").unlink()
    with pytest.raises(Refused) as e:
        downloads.archive(s, token)
    assert e.value.reason == "not_found" and "jpg" in e.value.message


def test_nothing_to_take_away_yet(s):
    token = submit_url(s, "https://example.com/talk.mp4", SubmitOptions())
    with pytest.raises(Refused) as e:
        downloads.archive(s, token)
    assert e.value.reason == "conflict"
