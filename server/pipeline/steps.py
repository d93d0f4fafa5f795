"""The five steps of a video.

A step does its work (no database transaction open meanwhile) and returns a `save`
function; the runner calls it with a checkpoint writer inside the transaction that
advances `pipeline_step`, so a checkpoint exists exactly when its step is done. Steps
read earlier checkpoints (server/pipeline/context.py), never recompute them.
"""
from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from server.adapters.media_probe import inspect_media, sha256_of
from server.core.failures import LeaseLost, StepError, fatal
from server.core.media_types import content_type
from server.core.model import (CaptionStyle, ClipBounds, ClipPlan, Classification, Progress,
                               RenderOptions, Transcript)
from server.core.steps import Step
from server.core.stores import CheckpointWriter, Save
from server.pipeline.context import StepContext, StepImpl
from server.settings import Settings

log = logging.getLogger(__name__)



def download(ctx: StepContext) -> Save:
    s, cfg, video = ctx.services, ctx.services.cfg, ctx.video
    assert video is not None
    try:
        if video["source_kind"] == "upload":
            key = video["upload_key"]
            path = s.storage.local_path(key)
            title = video["title"]
        else:
            media = s.downloader.download(video["source_url"], ctx.workdir / "download", ctx.progress)
            path, title = media.path, media.title
        info = inspect_media(path)      # the checks an upload passes: empty, not media, cut short
    except StepError as e:
        if not e.retryable:             # the job fails: no partial file to resume from
            shutil.rmtree(ctx.workdir / "download", ignore_errors=True)
        raise
    if info.duration_s > cfg.max_duration_s:
        raise fatal("too_long", f"the video lasts {info.duration_s:.0f} s; the limit is {cfg.max_duration_s:.0f} s")
    size, digest = path.stat().st_size, sha256_of(path)
    if video["source_kind"] == "url":
        key = f"videos/{video['token']}/source{path.suffix or '.mp4'}"
        s.storage.put(key, path, content_type(key))
        shutil.rmtree(ctx.workdir / "download", ignore_errors=True)

    def save(w: CheckpointWriter) -> None:
        w.save_media(video_id=ctx.video_id, storage_key=key, bytes=size, sha256=digest,
                     duration_s=info.duration_s, width=info.width, height=info.height)
        w.update_video_meta(video_id=ctx.video_id, title=title, duration_s=info.duration_s)
    return save


def transcribe(ctx: StepContext) -> Save:
    s = ctx.services
    media = ctx.media()
    # A language the submitter forced (the `language` option); None: detected per stretch.
    forced = ((ctx.video or {}).get("options") or {}).get("language") or None
    started = time.monotonic()
    transcript = s.transcriber.transcribe(s.storage.local_path(media["storage_key"]), ctx.progress,
                                          language=forced)
    elapsed = time.monotonic() - started
    # A transcript without speech is stored too: the job completes without clips, and the
    # clip search's notice says why (a silent video is not a failure of the pipeline).

    def save(w: CheckpointWriter) -> None:
        d = transcript.to_dict()
        w.save_transcript(video_id=ctx.video_id, engine=d["engine"], model=d["model"],
                          language=d["language"], language_probability=d["language_probability"],
                          duration_s=d["duration_s"], segments=d["segments"],
                          transcribe_seconds=elapsed, languages=d["languages"],
                          speech_s=d["speech_s"], coverage=d["coverage"],
                          audio_track=d["audio_track"])
        w.update_video_meta(video_id=ctx.video_id, language=transcript.language)
    return save


def classify(ctx: StepContext) -> Save:
    assert ctx.video is not None
    result = ctx.services.analyzer.classify(ctx.transcript(), ctx.video["title"])
    ctx.progress(1.0)

    def save(w: CheckpointWriter) -> None:
        w.save_analysis(video_id=ctx.video_id, analyzer=result.analyzer,
                        content_type=result.content_type, confidence=result.confidence,
                        rationale=result.rationale, topics=result.topics, raw_output=result.raw,
                        tokens_used=result.tokens_used, cost_usd=result.cost_usd)
        w.update_video_meta(video_id=ctx.video_id, content_type=result.content_type,
                            content_confidence=result.confidence)
    return save


def find_clips(ctx: StepContext) -> Save:
    cfg = ctx.services.cfg
    row = ctx.analysis()
    classification = Classification(row["content_type"], row["confidence"], row["rationale"],
                                     row["topics"], analyzer=row["analyzer"])
    bounds = clip_bounds((ctx.video or {}).get("options") or {}, cfg)
    media = ctx.services.storage.local_path(ctx.media()["storage_key"])
    result = ctx.services.analyzer.find_clips(ctx.transcript(), classification, bounds,
                                              ctx.progress, media)

    def save(w: CheckpointWriter) -> None:
        w.save_clip_search(video_id=ctx.video_id, analyzer=result.analyzer,
                           raw_output=json.loads(json.dumps(result.raw, default=float)),
                           tokens_used=result.tokens_used, cost_usd=result.cost_usd,
                           notice=result.notice or None)
        for i, c in enumerate(result.clips):
            w.save_clip(video_id=ctx.video_id, clip_index=i, start_s=c.start_s, end_s=c.end_s,
                        title=c.title, reason=c.reason, hook=c.hook, score=c.score)
    return save


def render(ctx: StepContext) -> Save:
    s = ctx.services
    assert ctx.video is not None
    media_path = s.storage.local_path(ctx.media()["storage_key"])
    clips = s.checkpoints.clips(ctx.video_id)
    transcript = ctx.transcript()
    stored = ctx.video.get("options") or {}
    for n, c in enumerate(clips):
        if c["video_key"]:      # rendered by an earlier attempt: each clip is its own checkpoint
            continue
        plan = ClipPlan(c["start_s"], c["end_s"], c["title"], c["reason"], c["score"], c["hook"])
        # the bar moves within a clip: clip n of len(clips), plus the clip's own fraction
        def within(fraction: float, n: int = n) -> None:
            ctx.progress((n + fraction) / len(clips))
        base = f"videos/{ctx.job.token}/clips/{c['clip_index']:02d}"
        outputs = render_clip_files(ctx, media_path, plan, transcript, stored, base, within)
        if not s.checkpoints.save_rendered_clip(video_id=ctx.video_id, clip_index=c["clip_index"],
                                                video_key=outputs.pop("video_key"),
                                                thumbnail_key=outputs.pop("thumbnail_key"),
                                                outputs=outputs, owner=ctx.job.lease_owner):
            raise LeaseLost()
        ctx.progress((n + 1) / len(clips))
    shutil.rmtree(ctx.workdir, ignore_errors=True)
    return lambda w: None


def render_clip_files(ctx: StepContext, media_path: Path, plan: ClipPlan, transcript: Transcript,
                      stored: dict, base: str, progress: Progress) -> dict:
    """Renders one clip with the `stored` render options, reporting its own progress (0..1),
    and stores its files under `base` (+ .mp4, .jpg, .srt, .vtt, .json). Returns its storage
    keys (`video_key`, `thumbnail_key`) and its outputs: how it was rendered and its caption
    files and manifest."""
    s = ctx.services
    options = render_options(stored, s.cfg)
    preset = (stored.get("caption_style") or {}).get("preset")
    outdir = ctx.workdir / "render"
    outdir.mkdir(parents=True, exist_ok=True)
    name = base.rsplit("/", 1)[-1]
    video_file, thumb_file = outdir / f"{name}.mp4", outdir / f"{name}.jpg"
    result = s.renderer.render(media_path, plan, video_file, thumb_file, transcript, options,
                               progress=progress)
    s.storage.put(base + ".mp4", video_file, content_type(video_file))
    s.storage.put(base + ".jpg", thumb_file, content_type(thumb_file))
    outputs: dict = {"video_key": base + ".mp4", "thumbnail_key": base + ".jpg",
                     "method": result.method, "format": options.format, "captions": options.captions,
                     "captions_burned_in": options.captions and options.format != "landscape",
                     "caption_style": {"preset": preset, **asdict(options.caption_style)},
                     "enhanced": options.enhance}
    for kind, path in result.sidecars.items():
        s.storage.put(base + path.suffix, path, content_type(path))
        outputs[kind] = base + path.suffix
    return outputs


def clip_bounds(stored: dict, cfg: Settings) -> ClipBounds:
    """The clip controls the submitter chose (checked at submit), the settings' defaults
    for the others."""
    def chosen(name: str, default):
        return default if stored.get(name) is None else stored[name]
    return ClipBounds(chosen("min_clip_s", cfg.clip_min_s), chosen("max_clip_s", cfg.clip_max_s),
                      chosen("max_clips", cfg.clip_max_count), stored.get("topic") or None,
                      count_asked=stored.get("max_clips") is not None,
                      allow_short=bool(stored.get("allow_short")))


def render_options(stored: dict, cfg: Settings) -> RenderOptions:
    """The options saved with the video (checked at submit); defaults fill what is missing
    (videos submitted before an option existed)."""
    return RenderOptions(stored.get("format") or cfg.clip_format,
                         cfg.clip_captions if stored.get("captions") is None else stored["captions"],
                         cfg.clip_enhance if stored.get("enhance") is None else stored["enhance"],
                         CaptionStyle.from_dict(stored.get("caption_style")))


STEPS: dict[Step, StepImpl] = {
    Step.DOWNLOAD: download, Step.TRANSCRIBE: transcribe, Step.CLASSIFY: classify,
    Step.FIND_CLIPS: find_clips, Step.RENDER: render,
}
