"""What a step gets: the services, its claimed job, the job's video, and the progress
callback; and what it returns: a `Save` that writes its checkpoint inside the
transaction that advances the job (so a checkpoint exists exactly when its step is
done). Steps read earlier checkpoints through the context, never recompute them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from server.core.jobs import Job
from server.core.model import Progress, Transcript
from server.core.stores import Row, Save
from server.services import Services


@dataclass
class StepContext:
    services: Services
    job: Job
    video: Row | None          # None for kinds without a video
    progress: Progress

    @property
    def workdir(self) -> Path:
        return self.services.cfg.data_dir / "work" / self.job.token

    @property
    def video_id(self) -> int:
        assert self.job.video_id is not None, "a video step ran on a job without a video"
        return self.job.video_id

    def _present(self, row: Row | None, name: str) -> Row:
        if row is None:   # the queue says the earlier step is done, so this is a bug
            raise RuntimeError(f"missing checkpoint {name} for video {self.video_id}")
        return row

    def media(self) -> Row:
        return self._present(self.services.checkpoints.media(self.video_id), "media")

    def analysis(self) -> Row:
        return self._present(self.services.checkpoints.analysis(self.video_id), "analysis")

    def transcript(self) -> Transcript:
        row = self._present(self.services.checkpoints.transcript(self.video_id), "transcript")
        return Transcript.from_dict(row)


StepImpl = Callable[[StepContext], Save]
