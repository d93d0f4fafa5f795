"""`python -m server submit`: submit a URL or a file through the same use case as the API
(so it gets every check the API makes), optionally run it here, with a bar per step."""
from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from server import open_services
from server.core.steps import DONE, FINISHED, STEPS
from server.core.stores import Row
from server.services import Services
from server.settings import load_settings
from server.usecases import Refused, videos
from server.usecases.submit import SubmitOptions, submit_local_file, submit_url


def submit(source: str, *, work: bool, opts: SubmitOptions) -> int:
    cfg = load_settings()
    logging.getLogger().setLevel(cfg.log_level if "log_level" in cfg.model_fields_set else "WARNING")
    s = open_services(cfg)
    try:
        if source.startswith(("http://", "https://")):
            token = submit_url(s, source, opts)
        else:
            token = submit_local_file(s, Path(source), opts)
    except Refused as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"token: {token}", flush=True)
    if not work:
        return 0
    return _run_here(s, token)


def _run_here(s: Services, token: str) -> int:
    from server.worker import Worker
    worker = Worker(s, steps=STEPS, concurrency=1, worker_id=f"cli:{os.getpid()}")
    bars = {name: tqdm(total=100, desc=f"{name:<10}", position=i, leave=True, file=sys.stderr,
                       bar_format="{desc} {bar} {n:3.0f}%{postfix}")
            for i, name in enumerate(STEPS)}
    job_id = s.videos.job_id(token)
    while True:
        row = videos.status(s, token).job
        if row["status"] in FINISHED:
            break
        if row["status"] in ("queued", "retrying") and worker.free_slots():
            worker.claim_and_dispatch(1, job_id=job_id)
        _draw(bars, row)
        time.sleep(0.25)
    _draw(bars, row)
    for bar in bars.values():
        bar.close()
    worker.shutdown(grace_s=1)
    if row["status"] != "completed":
        print(f"\n{row['status']}: {row['failure_cause']}: {row['failure_details']}", file=sys.stderr)
        return 1
    _print_result(s, token)
    return 0


def _draw(bars: dict, row: Row) -> None:
    current = row["pipeline_step"]
    for i, name in enumerate(STEPS):
        value: float
        if current == DONE or STEPS.index(current) > i:
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


def _print_result(s: Services, token: str) -> None:
    state = videos.status(s, token)
    row = state.job
    print(f"\n{row['title'] or 'video'}: {row['duration_s']:.0f} s, language {row['language'] or 'none heard'}, "
          f"content type {row['content_type']} ({row['content_confidence']:.2f})")
    if not state.clips:
        print("no clips found")
    if row.get("clip_notice"):
        print(row["clip_notice"])
    for c in state.clips:
        where = c["video_key"]
        try:
            where = str(s.storage.local_path(c["video_key"]))
        except (AttributeError, FileNotFoundError):
            pass
        print(f"  #{c['clip_index']}  {c['start_s']:7.1f}-{c['end_s']:7.1f} s  score {c['score']:5.1f}  "
              f"{c['title']}\n       {where}")
