"""`python -m server submit`: enqueue a URL or a file, run it here, show a bar per step."""
from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from pathlib import Path

from tqdm import tqdm

from server import open_services
from server.adapters.media_probe import probe, sha256_of
from server.core.media_types import content_type
from server.core.urls import UnsafeUrl, check_url
from server.core.steps import STEPS
from server.settings import load_settings
from server.core.failures import StepError
from server.submissions import enqueue, new_token

TERMINAL = ("completed", "failed", "cancelled")


def _enqueue_source(s, source: str, priority: int) -> str:
    token = new_token()
    if source.startswith(("http://", "https://")):
        fingerprint = check_url(source, allow_private=s.cfg.allow_private_urls)
        return enqueue(s, token=token, kind="url", url=source, upload_key=None,
                       fingerprint=fingerprint, priority=priority)
    path = Path(source)
    if not path.is_file():
        raise SystemExit(f"error: {source} is neither an http(s) URL nor a file")
    probe(path)                      # refuse a non-video before queueing it
    key = f"uploads/{token}/source{path.suffix.lower() or '.bin'}"
    staged = s.cfg.data_dir / "uploads" / token / path.name
    staged.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, staged)
    s.storage.put(key, staged, content_type(key))
    return enqueue(s, token=token, kind="upload", url=None, upload_key=key,
                   fingerprint="sha256:" + sha256_of(path), title=path.stem, priority=priority)


def submit(source: str, *, work: bool, priority: int) -> int:
    cfg = load_settings()
    logging.getLogger().setLevel(cfg.log_level if "log_level" in cfg.model_fields_set else "WARNING")
    s = open_services(cfg)
    try:
        token = _enqueue_source(s, source, priority)
    except (UnsafeUrl, StepError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"token: {token}", flush=True)
    if not work:
        return 0
    from server.worker import Worker
    worker = Worker(s, concurrency=1, worker_id=f"cli:{os.getpid()}")
    bars = {name: tqdm(total=100, desc=f"{name:<10}", position=i, leave=True, file=sys.stderr,
                       bar_format="{desc} {bar} {n:3.0f}%{postfix}")
            for i, name in enumerate(STEPS)}
    row = None
    while True:
        row = s.db.one("status_by_token", token=token)
        if row["status"] in TERMINAL:
            break
        if row["status"] in ("queued", "retrying") and worker.free_slots():
            worker.claim_and_dispatch(1, job_id=_job_id(s, token))
        _draw(bars, row)
        time.sleep(0.25)
    _draw(bars, row)
    for bar in bars.values():
        bar.close()
    worker.shutdown(grace_s=1)
    if row["status"] != "completed":
        print(f"\n{row['status']}: {row['failure_cause']}: {row['failure_details']}", file=sys.stderr)
        return 1
    _print_result(s, row)
    return 0


def _job_id(s, token: str) -> int:
    return s.db.one("job_id_by_token", token=token)["id"]


def _draw(bars: dict, row: dict) -> None:
    current = row["pipeline_step"]
    for i, name in enumerate(STEPS):
        if current == "done" or STEPS.index(current) > i:
            value, note = 100, "done"
        elif name == current:
            value = 100 * float(row["progress"])
            note = row["status"]
            if row["status"] == "retrying":
                note = f"retrying ({row['failure_cause']})"
        else:
            value, note = 0, ""
        bars[name].n = value
        bars[name].set_postfix_str(note, refresh=False)
        bars[name].refresh()


def _print_result(s, row: dict) -> None:
    print(f"\n{row['title'] or 'video'}: {row['duration_s']:.0f} s, language {row['language']}, "
          f"content type {row['content_type']} ({row['content_confidence']:.2f})")
    clips = s.db.all("clips_for_video", video_id=row["video_id"])
    if not clips:
        print("no clips found")
    for c in clips:
        where = c["video_key"]
        try:
            where = str(s.storage.local_path(c["video_key"]))
        except (AttributeError, FileNotFoundError):
            pass
        print(f"  #{c['clip_index']}  {c['start_s']:7.1f}-{c['end_s']:7.1f} s  score {c['score']:5.1f}  "
              f"{c['title']}\n       {where}")
