"""A video's state as the status response model clients see."""
from __future__ import annotations

from typing import Any, Callable

from urllib.parse import urlencode

from server.api.schemas import (BriefOut, CaptionStyleOut, ClipDownloadsOut, ClipOut, RenderJobOut,
                                StatusOut, StepOut, TranscriptLinksOut, UsageOut, VideoOut,
                                WebhookAttemptOut, WebhookDeliveryOut)
from server.core.ports import Storage
from server.core.speech import COVERAGE_WARNING
from server.core.steps import STEPS
from server.core.stores import Row
from server.usecases.clips import latest_renders
from server.usecases.videos import VideoState


def absolute(base: str, path: str) -> str:
    return path if path.startswith(("http://", "https://")) else base.rstrip("/") + path


def steps_out(row: Row, runs: list[Row]) -> list[StepOut]:
    current = row["pipeline_step"]
    done_upto = STEPS.index(current) if current in STEPS else len(STEPS)
    view = []
    for i, name in enumerate(STEPS):
        mine = [r for r in runs if r["step"] == name]
        state: str
        if i < done_upto:
            state, progress = "done", 1.0
        elif i == done_upto:
            state = str({"queued": "pending", "completed": "done"}.get(row["status"], row["status"]))
            progress = float(row["progress"])
        else:
            state, progress = "pending", 0.0
        seconds = sum((r["finished_at"] - r["started_at"]).total_seconds()
                      for r in mine if r["finished_at"] and r["outcome"] == "succeeded")
        view.append(StepOut(name=name, state=state, progress=round(progress, 3),  # type: ignore[arg-type]
                            attempts=len(mine), seconds=round(seconds, 2) if seconds else None))
    return view


Sign = Callable[[str], str]
_SIDECARS = ("srt", "vtt", "manifest")


def _signer(storage: Storage, clips: list[Row]) -> Sign:
    """The URLs of every file of a response, signed in one request (a remote store answers
    each request it gets: five per clip, one by one); a key the batch left out is signed
    alone."""
    keys = [k for c in clips for k in (c["video_key"], c["thumbnail_key"],
                                       *((c.get("outputs") or {}).get(s) for s in _SIDECARS)) if k]
    signed = storage.urls(keys) if keys else {}
    return lambda key: signed.get(key) or storage.url(key)


def _outputs(outputs: dict, sign: Sign, base_url: str) -> dict[str, Any]:
    """How the clip was rendered, and the URLs of its caption files and manifest."""
    view: dict[str, Any] = {k: outputs[k] for k in ("format", "method", "captions", "captions_burned_in",
                                                    "enhanced") if k in outputs}
    if outputs.get("caption_style"):
        view["caption_style"] = CaptionStyleOut(**{"preset": None, **outputs["caption_style"]})
    for kind, name in (("srt", "srt_url"), ("vtt", "vtt_url"), ("manifest", "manifest_url")):
        view[name] = absolute(base_url, sign(outputs[kind])) if outputs.get(kind) else None
    return view


def _downloads(c: Row, token: str, base_url: str) -> ClipDownloadsOut:
    """Links that send the clip's files as attachments named after the video and the clip."""
    def link(file: str) -> str:
        query = urlencode({"token": token, "index": c["clip_index"], "file": file})
        return f"{base_url.rstrip('/')}/public/video/clips/download?{query}"
    outputs = c.get("outputs") or {}
    return ClipDownloadsOut(video=link("mp4"), thumbnail=link("jpg") if c["thumbnail_key"] else None,
                            srt=link("srt") if outputs.get("srt") else None,
                            vtt=link("vtt") if outputs.get("vtt") else None,
                            manifest=link("json") if outputs.get("manifest") else None)


def render_out(r: Row) -> RenderJobOut:
    return RenderJobOut(token=r["token"], status=r["status"], progress=round(float(r["progress"]), 3),
                        attempts=r["attempts"], start_s=r["payload"]["start_s"],
                        end_s=r["payload"]["end_s"],
                        retry_at=r["run_after"].isoformat() if r["status"] == "retrying" else None,
                        failure_cause=r["failure_cause"], failure_details=r["failure_details"],
                        created_at=r["created_at"].isoformat(),
                        finished_at=r["finished_at"].isoformat() if r["finished_at"] else None)


def clip_out(c: Row, sign: Sign, base_url: str, token: str = "",
             render: Row | None = None) -> ClipOut:
    def url(key: str | None) -> str | None:
        return absolute(base_url, sign(key)) if key else None
    extra: dict[str, Any] = {}
    if c["video_key"] and token:
        extra["downloads"] = _downloads(c, token, base_url)
    if render is not None:
        extra["render"] = render_out(render)
    return ClipOut(index=c["clip_index"], start_s=round(c["start_s"], 3), end_s=round(c["end_s"], 3),
                   duration_s=round(c["end_s"] - c["start_s"], 3), title=c["title"],
                   reason=c["reason"], hook=c["hook"], score=round(float(c["score"]), 1),
                   url=url(c["video_key"]), thumbnail_url=url(c["thumbnail_key"]),
                   **_outputs(c.get("outputs") or {}, sign, base_url), **extra)


def overall_progress(pipeline_step: str, progress: float) -> float:
    """The share of a video's steps done: every finished step counts whole, the current
    one by its progress."""
    done = STEPS.index(pipeline_step) if pipeline_step in STEPS else len(STEPS)
    return round((done + (float(progress) if done < len(STEPS) else 0.0)) / len(STEPS), 3)


def source_of(row: Row) -> str:
    return row["source_url"] if row["source_kind"] == "url" else "upload"


def brief_out(row: Row) -> BriefOut:
    return BriefOut(token=row["token"], status=row["status"], pipeline_step=row["pipeline_step"],
                    overall_progress=overall_progress(row["pipeline_step"], row["progress"]),
                    title=row["title"], source=source_of(row), failure_cause=row["failure_cause"],
                    clips=row["clips"], rendering=row["rendering"],
                    created_at=row["created_at"].isoformat(),
                    finished_at=row["finished_at"].isoformat() if row["finished_at"] else None)


_DELIVERY_STATE = {"queued": "pending", "running": "sending", "retrying": "retrying",
                   "completed": "delivered", "failed": "failed", "cancelled": "failed"}


def webhook_out(d: Row) -> WebhookDeliveryOut:
    """One event's delivery: its job's state, and every attempt with the receiver's answer."""
    return WebhookDeliveryOut(
        id=d["msg_id"], event=d["event"], step=d["step"], occurred_at=d["occurred_at"].isoformat(),
        state=_DELIVERY_STATE[d["status"]],  # type: ignore[arg-type]
        retry_at=d["run_after"].isoformat() if d["status"] == "retrying" else None,
        failure_cause=d["failure_cause"],
        attempts=[WebhookAttemptOut(**a) for a in d["attempts"]])


def warnings_of(row: Row) -> list[str]:
    """What the submitter should know: speech the transcript may have lost, or why a job
    stays queued while another submission of the same source does the work."""
    found = []
    coverage = row.get("coverage")
    if coverage is not None and coverage < COVERAGE_WARNING:
        found.append(f"the transcript covers {coverage:.0%} of the speech detected in the audio; "
                     "some speech may be missing from it and from the clips' captions")
    if row.get("waiting_on_source"):
        what = "download" if row["pipeline_step"] == "download" else "transcript"
        found.append(f"waiting for another submission of the same source, which is at "
                     f"{row['pipeline_step']} now: this job reuses its {what} instead of making "
                     "its own")
    return found


def status_out(state: VideoState, storage: Storage, base_url: str) -> StatusOut:
    row = state.job
    steps = steps_out(row, state.attempts)
    extra: dict[str, Any] = {}
    if row["pipeline_step"] not in ("download", "transcribe"):
        t = f"{base_url.rstrip('/')}/public/video/transcript?token={row['token']}"
        extra["transcript"] = TranscriptLinksOut(json_url=t, srt=t + "&format=srt", vtt=t + "&format=vtt",
                                                 coverage=row.get("coverage"), speech_s=row.get("speech_s"),
                                                 audio_track=row.get("audio_track"))
        extra["archive_url"] = f"{base_url.rstrip('/')}/public/video/download?token={row['token']}"
    if state.clips or row.get("clips_searched"):
        # once the clips are searched the list is there, empty when none were found
        renders = latest_renders(state.renders)
        sign = _signer(storage, state.clips)
        extra["clips"] = [clip_out(c, sign, base_url, row["token"], renders.get(c["clip_index"]))
                          for c in state.clips]
    if row.get("clip_notice"):
        extra["notice"] = row["clip_notice"]
    if state.webhooks:
        extra["webhooks"] = [webhook_out(d) for d in state.webhooks]
    media_key = row.get("media_key")
    return StatusOut(
        token=row["token"], status=row["status"], pipeline_step=row["pipeline_step"],
        progress=round(float(row["progress"]), 3),
        overall_progress=round(sum(s.progress for s in steps) / len(steps), 3),
        attempts=row["attempts"], max_attempts=row["max_attempts"],
        retry_at=row["run_after"].isoformat() if row["status"] == "retrying" else None,
        steps=steps, failure_cause=row["failure_cause"], failure_details=row["failure_details"],
        video=VideoOut(title=row["title"], source=source_of(row),
                       media_url=f"{base_url.rstrip('/')}/public/video/source?token={row['token']}"
                       if media_key else None,
                       duration_s=row["duration_s"], language=row["language"],
                       languages=row.get("languages") or [],
                       content_type=row["content_type"],
                       content_confidence=row["content_confidence"]),
        usage=UsageOut(tokens=(row["analysis_tokens"] or 0) + (row["clip_tokens"] or 0),
                       cost_usd=float(row["cost_usd"] or 0)),
        created_at=row["created_at"].isoformat(),
        finished_at=row["finished_at"].isoformat() if row["finished_at"] else None,
        warnings=warnings_of(row), **extra)
