"""The one list of job kinds, their steps, and job statuses.

A job is of one kind; each kind runs its own steps in order, and every step belongs to
exactly one kind, so a queue row's `pipeline_step` says which kind of work it is. The
pipeline, the no-op pipeline, the status presenter, the API schema and the SQL check
constraints all agree with these enums; `tests/integration/test_contracts.py` compares
them with the constraints in the database. A new kind of job (a clip re-render, a webhook
delivery) adds a `Kind`, its steps and a migration that widens the check constraints."""
from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    VIDEO = "video"                      # a submitted video: download ... render
    AUDIO_ENHANCE = "audio_enhance"      # POST /public/audio/enhance: one step
    WEBHOOK = "webhook"                  # one event of a video, sent to its webhook_url
    CLIP_RENDER = "clip_render"          # POST /public/video/clips/render: one clip again


class Step(StrEnum):
    """Every step of every kind; a video's steps in the order they run."""
    DOWNLOAD = "download"
    TRANSCRIBE = "transcribe"
    CLASSIFY = "classify"
    FIND_CLIPS = "find_clips"
    RENDER = "render"
    ENHANCE_AUDIO = "enhance_audio"
    DELIVER_WEBHOOK = "deliver_webhook"
    RENDER_CLIP = "render_clip"


# What `pipeline_step` holds once the last step is done.
DONE = "done"

PIPELINES: dict[Kind, tuple[Step, ...]] = {
    Kind.VIDEO: (Step.DOWNLOAD, Step.TRANSCRIBE, Step.CLASSIFY, Step.FIND_CLIPS, Step.RENDER),
    Kind.AUDIO_ENHANCE: (Step.ENHANCE_AUDIO,),
    Kind.WEBHOOK: (Step.DELIVER_WEBHOOK,),
    Kind.CLIP_RENDER: (Step.RENDER_CLIP,),
}

# A video's steps, in order (what the status of a video lists).
STEPS: tuple[Step, ...] = PIPELINES[Kind.VIDEO]

# Steps whose checkpoint an earlier submission of the same source can lend a new one.
# They also coalesce: while one job of a source runs such a step, the others wait for its
# checkpoint instead of redoing the work (the queue's claim passes them over).
REUSABLE: tuple[Step, ...] = (Step.DOWNLOAD, Step.TRANSCRIBE)


def kind_of(step: Step | str) -> Kind:
    return next(k for k, steps in PIPELINES.items() if Step(step) in steps)


def next_step(step: Step | str) -> str:
    """The step after `step` in its kind's pipeline, or DONE after the last one."""
    steps = PIPELINES[kind_of(step)]
    i = steps.index(Step(step))
    return steps[i + 1] if i + 1 < len(steps) else DONE


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A job in one of these has ended: nothing claims it again.
FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)
