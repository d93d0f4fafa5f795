"""`python -m server submit` goes through the same use case as the API, so it makes the
same checks (it used to queue any file with an audio stream, whatever its length)."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.support import ROOT
from tests.support.noop_workers import rows


def cli(db_url, data_dir, *args, **env):
    return subprocess.run([sys.executable, "-m", "server", "submit", "--no-work", *args],
                          env={**os.environ, "DATABASE_URL": db_url, "DATA_DIR": str(data_dir),
                               "PYTHONPATH": str(ROOT), **env},
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_the_cli_refuses_what_the_api_refuses(clean_db, data_dir, tiny_video, tmp_path):
    too_long = cli(clean_db, data_dir, str(tiny_video), MAX_DURATION_S="2")
    assert too_long.returncode == 2 and "the limit is 2 s" in too_long.stderr, too_long.stderr
    cut = tmp_path / "cut.mp4"
    data = tiny_video.read_bytes()
    cut.write_bytes(data[: len(data) * 3 // 4])
    truncated = cli(clean_db, data_dir, str(cut))
    assert truncated.returncode == 2 and "not a usable video" in truncated.stderr, truncated.stderr
    private = cli(clean_db, data_dir, "http://10.0.0.1/a.mp4", ALLOW_PRIVATE_URLS="0")
    assert private.returncode == 2 and "non-public" in private.stderr
    bad_option = cli(clean_db, data_dir, "https://example.com/a.mp4", "--priority", "1000")
    assert bad_option.returncode == 2 and "priority" in bad_option.stderr
    bad_style = cli(clean_db, data_dir, "https://example.com/a.mp4", "--caption-style", "comic-sans")
    assert bad_style.returncode == 2 and "caption_style.preset" in bad_style.stderr
    assert rows(clean_db, "select count(*) from video_processing_queue") == [(0,)]


def test_the_cli_queues_a_file_with_its_options(clean_db, data_dir, tiny_video):
    done = cli(clean_db, data_dir, str(tiny_video), "--format", "square", "--no-captions", "--priority", "5",
               "--caption-style", "headline", "--min-clip-s", "20", "--max-clips", "1", "--topic", "tides")
    assert done.returncode == 0, done.stderr
    token = done.stdout.split("token: ")[1].split()[0]
    assert rows(clean_db, """select v.source_kind, v.title, v.options, q.priority, q.status
                             from videos v join video_processing_queue q on q.video_id = v.id
                             where v.token = %s""", token) == [
        ("upload", "tiny", {"format": "square", "captions": False, "enhance": False, "min_clip_s": 20,
                            "max_clips": 1, "topic": "tides",
                            "caption_style": {"preset": "headline", "size": "large", "highlight": "#F472B6",
                                              "position": "top"}}, 5, "queued")]
    assert tiny_video.exists()
