"""A video's state as the status response model clients see."""
from __future__ import annotations

from typing import Any

from server.api.schemas import (ClipOut, StatusOut, StepOut, TranscriptLinksOut, UsageOut, VideoOut,
                                WebhookAttemptOut, WebhookDeliveryOut)
from server.core.ports import Storage
from server.core.speech import COVERAGE_WARNING
from server.core.steps import STEPS
from server.core.stores import Row
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


def _outputs(outputs: dict, storage: Storage, base_url: str) -> dict[str, Any]:
    """How the clip was rendered, and the URLs of its caption files and manifest."""
    view: dict[str, Any] = {k: outputs[k] for k in ("format", "method", "captions_burned_in", "enhanced")
                            if k in outputs}
    for kind, name in (("srt", "srt_url"), ("vtt", "vtt_url"), ("manifest", "manifest_url")):
        view[name] = absolute(base_url, storage.url(outputs[kind])) if outputs.get(kind) else None
    return view


def clip_out(c: Row, storage: Storage, base_url: str) -> ClipOut:
    def url(key: str | None) -> str | None:
        return absolute(base_url, storage.url(key)) if key else None
    return ClipOut(index=c["clip_index"], start_s=round(c["start_s"], 3), end_s=round(c["end_s"], 3),
                   duration_s=round(c["end_s"] - c["start_s"], 3), title=c["title"],
                   reason=c["reason"], hook=c["hook"], score=round(float(c["score"]), 1),
                   url=url(c["video_key"]), thumbnail_url=url(c["thumbnail_key"]),
                   **_outputs(c.get("outputs") or {}, storage, base_url))


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


def transcript_warnings(row: Row) -> list[str]:
    """What the submitter should know about the transcript: speech it may have lost."""
    coverage = row.get("coverage")
    if coverage is None or coverage >= COVERAGE_WARNING:
        return []
    return [f"the transcript covers {coverage:.0%} of the speech detected in the audio; "
            "some speech may be missing from it and from the clips' captions"]


def status_out(state: VideoState, storage: Storage, base_url: str) -> StatusOut:
    row = state.job
    steps = steps_out(row, state.attempts)
    extra: dict[str, Any] = {}
    if row["pipeline_step"] not in ("download", "transcribe"):
        t = f"{base_url.rstrip('/')}/public/video/transcript?token={row['token']}"
        extra["transcript"] = TranscriptLinksOut(json_url=t, srt=t + "&format=srt", vtt=t + "&format=vtt",
                                                 coverage=row.get("coverage"), speech_s=row.get("speech_s"),
                                                 audio_track=row.get("audio_track"))
    if state.clips:
        extra["clips"] = [clip_out(c, storage, base_url) for c in state.clips]
    if state.webhooks:
        extra["webhooks"] = [webhook_out(d) for d in state.webhooks]
    return StatusOut(
        token=row["token"], status=row["status"], pipeline_step=row["pipeline_step"],
        progress=round(float(row["progress"]), 3),
        overall_progress=round(sum(s.progress for s in steps) / len(steps), 3),
        attempts=row["attempts"], max_attempts=row["max_attempts"],
        retry_at=row["run_after"].isoformat() if row["status"] == "retrying" else None,
        steps=steps, failure_cause=row["failure_cause"], failure_details=row["failure_details"],
        video=VideoOut(title=row["title"],
                       source=row["source_url"] if row["source_kind"] == "url" else "upload",
                       duration_s=row["duration_s"], language=row["language"],
                       languages=row.get("languages") or [],
                       content_type=row["content_type"],
                       content_confidence=row["content_confidence"]),
        usage=UsageOut(tokens=(row["analysis_tokens"] or 0) + (row["clip_tokens"] or 0),
                       cost_usd=float(row["cost_usd"] or 0)),
        created_at=row["created_at"].isoformat(),
        finished_at=row["finished_at"].isoformat() if row["finished_at"] else None,
        warnings=transcript_warnings(row), **extra)
