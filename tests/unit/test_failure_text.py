"""Failure text is shown to clients: it keeps its meaning and loses every server path."""
from __future__ import annotations

import pytest

from server.core.failures import classify, fatal, scrub_paths


@pytest.mark.parametrize("text, expected", [
    ("Invalid data found when processing input: '/srv/data/uploads/Tok/source.mp4'",
     "Invalid data found when processing input: 'source.mp4'"),
    ('File "/opt/app/server/pipeline/steps.py", line 70, in download',
     'File "steps.py", line 70, in download'),
    ("[Errno 13] Permission denied: /data/work/abc/", "[Errno 13] Permission denied: <folder>"),
    ("path=/a/b/c.mp4, then (/x/y.txt)", "path=c.mp4, then (y.txt)"),
    # URLs, fractions and words with slashes are not paths
    ("HTTP Error 404 for https://example.com/a/b.mp4", "HTTP Error 404 for https://example.com/a/b.mp4"),
    ("http://127.0.0.1:9/x/y.mp4 and/or 1/2 of /tmp", "http://127.0.0.1:9/x/y.mp4 and/or 1/2 of /tmp"),
])
def test_scrub_paths(text, expected):
    assert scrub_paths(text) == expected


def test_step_errors_and_unexpected_exceptions_carry_no_path():
    assert str(fatal("corrupt_media", "cannot open '/var/lib/clips/media/v.mp4'")) == \
        "cannot open 'v.mp4'"
    try:
        open("/nonexistent-dir/for/sure.mp4")
    except OSError as e:
        failure = classify(e)
    assert failure.cause == "internal_error"
    assert "sure.mp4" in failure.details and "test_failure_text.py" in failure.details
    assert "/nonexistent-dir" not in failure.details and __file__ not in failure.details
