"""The one step of a `clip_render` job: one clip of a completed video rendered again with
the bounds and options a person chose (server/usecases/clips.py), from the stored source
and transcript. Nothing is downloaded, transcribed or looked for again.

Each version gets its own folder (`videos/<token>/clips/<nn>/<job id>/`), so its URLs are
new and no browser or CDN serves the old file from its cache. The new version replaces the
clip in the transaction that completes the job. Versions that no clip points to any more
(left by earlier re-renders of the clip) are deleted when the next one starts."""
from __future__ import annotations

import logging
import shutil

from server.core.model import ClipPlan
from server.core.steps import Step
from server.core.stores import CheckpointWriter, Save
from server.pipeline.context import StepContext, StepImpl
from server.pipeline.steps import render_clip_files

log = logging.getLogger(__name__)


def version_folder(video_token: str, clip_index: int, job_id: int) -> str:
    return f"videos/{video_token}/clips/{clip_index:02d}/{job_id}/"


def render_clip(ctx: StepContext) -> Save:
    s, job = ctx.services, ctx.job
    assert ctx.video is not None
    index = int(job.payload["clip_index"])
    clip = next((c for c in s.checkpoints.clips(ctx.video_id) if c["clip_index"] == index), None)
    if clip is None:            # the use case checked it; clips are never deleted
        raise RuntimeError(f"video {ctx.video['token']} has no clip {index}")
    _drop_unused_versions(ctx, index, clip["video_key"])
    ctx.progress(0.05)
    plan = ClipPlan(float(job.payload["start_s"]), float(job.payload["end_s"]), clip["title"],
                    clip["reason"], clip["score"], clip["hook"])
    media_path = s.storage.local_path(ctx.media()["storage_key"])
    base = version_folder(ctx.video["token"], index, job.id) + f"{index:02d}"
    try:
        outputs = render_clip_files(ctx, media_path, plan, ctx.transcript(),
                                    job.payload.get("options") or {}, base,
                                    lambda f: ctx.progress(0.05 + 0.9 * f))
    finally:
        shutil.rmtree(ctx.workdir, ignore_errors=True)
    video_key, thumbnail_key = outputs.pop("video_key"), outputs.pop("thumbnail_key")
    ctx.progress(1.0)

    def save(w: CheckpointWriter) -> None:
        w.save_clip_version(video_id=ctx.video_id, clip_index=index, start_s=plan.start_s,
                            end_s=plan.end_s, video_key=video_key, thumbnail_key=thumbnail_key,
                            outputs=outputs)
    return save


def _drop_unused_versions(ctx: StepContext, index: int, current_key: str | None) -> None:
    """Deletes the folders of this clip's earlier re-renders that the clip no longer shows
    (at most one render of a clip runs at a time, so none of them is being written)."""
    s = ctx.services
    for r in s.jobs.clip_renders_of_videos([ctx.video_id])[ctx.video_id]:
        if r["id"] == ctx.job.id or int(r["payload"]["clip_index"]) != index \
                or r["status"] in ("queued", "running", "retrying"):
            continue
        folder = version_folder(ctx.video["token"], index, r["id"]) if ctx.video else ""
        if folder and not (current_key or "").startswith(folder):
            try:
                s.storage.delete_prefix(folder)
            except Exception:       # tidying up must never fail the render
                log.warning("could not delete %s", folder, exc_info=True)


STEPS: dict[Step, StepImpl] = {Step.RENDER_CLIP: render_clip}
