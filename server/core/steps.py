"""The one list of pipeline steps and job statuses.

The pipeline, the no-op pipeline, the status presenter, the API schema and the SQL check
constraints all agree with these enums; `tests/test_contracts.py` compares them with the
constraints in the database."""
from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """A video's steps, in the order they run."""
    DOWNLOAD = "download"
    TRANSCRIBE = "transcribe"
    CLASSIFY = "classify"
    FIND_CLIPS = "find_clips"
    RENDER = "render"


# What `pipeline_step` holds once the last step is done.
DONE = "done"

STEPS: tuple[Step, ...] = tuple(Step)


def next_step(step: Step | str) -> str:
    """The step after `step`, or DONE after the last one."""
    i = STEPS.index(Step(step))
    return STEPS[i + 1] if i + 1 < len(STEPS) else DONE


class Status(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A job in one of these has ended: nothing claims it again.
FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)
