"""A queue-testing pipeline: no media, no models. `python -m server worker --pipeline noop`.

Each step sleeps a random moment (NOOP_STEP_SECONDS="min,max", default "0.002,0.01"),
reporting progress as it goes so leases, cancellation and shutdown behave as in real
steps, then writes its real checkpoint rows with trivial content. The chaos tests and
scripts/bench_queue.py use it to drive thousands of step transitions through the real
queue; it never runs in production.
"""
from __future__ import annotations

import random
import time

from server.core.failures import LeaseLost
from server.core.steps import Step
from server.core.stores import CheckpointWriter, Save
from server.pipeline.context import StepContext, StepImpl


def _pause(ctx: StepContext) -> None:
    lo, _, hi = ctx.services.cfg.noop_step_seconds.partition(",")
    total = random.uniform(float(lo), float(hi or lo))
    end = time.monotonic() + total
    while (left := end - time.monotonic()) > 0:
        time.sleep(min(left, 0.05))
        ctx.progress(1 - max(left - 0.05, 0) / total)


def download(ctx: StepContext) -> Save:
    _pause(ctx)
    # The lease owner in the key tells tests which claim wrote the checkpoint.
    key = f"noop/{ctx.job.lease_owner}"

    def save(w: CheckpointWriter) -> None:
        w.save_media(video_id=ctx.video_id, storage_key=key, bytes=0, sha256="noop",
                     duration_s=1.0, width=None, height=None)
    return save


def transcribe(ctx: StepContext) -> Save:
    _pause(ctx)
    return lambda w: w.save_transcript(video_id=ctx.video_id, engine="noop", model="noop",
                                       language="en", language_probability=1.0, duration_s=1.0,
                                       segments=[], transcribe_seconds=0.0)


def classify(ctx: StepContext) -> Save:
    _pause(ctx)
    return lambda w: w.save_analysis(video_id=ctx.video_id, analyzer="noop",
                                     content_type="other", confidence=1.0, rationale="", topics=[],
                                     raw_output={}, tokens_used=0, cost_usd=0)


def find_clips(ctx: StepContext) -> Save:
    _pause(ctx)

    def save(w: CheckpointWriter) -> None:
        w.save_clip_search(video_id=ctx.video_id, analyzer="noop", raw_output={},
                           tokens_used=0, cost_usd=0)
        w.save_clip(video_id=ctx.video_id, clip_index=0, start_s=0.0, end_s=1.0,
                    title="noop", reason="noop", hook="", score=50)
    return save


def render(ctx: StepContext) -> Save:
    _pause(ctx)
    # Like the real render step: each clip is marked rendered under the lease.
    if not ctx.services.checkpoints.save_rendered_clip(
            video_id=ctx.video_id, clip_index=0, video_key=f"noop/{ctx.job.lease_owner}.mp4",
            thumbnail_key=None, outputs={}, owner=ctx.job.lease_owner):
        raise LeaseLost("lease lost before the clip was recorded")
    return lambda w: None


def enhance_audio(ctx: StepContext) -> Save:
    _pause(ctx)
    return lambda w: w.save_audio_output(job_id=ctx.job.id, storage_key=f"noop/{ctx.job.lease_owner}.wav",
                                         duration_s=1.0, bytes=0)


STEPS: dict[Step, StepImpl] = {
    Step.DOWNLOAD: download, Step.TRANSCRIBE: transcribe, Step.CLASSIFY: classify,
    Step.FIND_CLIPS: find_clips, Step.RENDER: render, Step.ENHANCE_AUDIO: enhance_audio}
