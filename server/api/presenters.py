"""The JSON shapes clients see."""
from __future__ import annotations

from server.core.speech import COVERAGE_WARNING
from server.core.steps import STEPS


def absolute(base: str, path: str) -> str:
    return path if path.startswith(("http://", "https://")) else base.rstrip("/") + path


def steps_view(row: dict, runs: list[dict]) -> list[dict]:
    current = row["pipeline_step"]
    done_upto = STEPS.index(current) if current in STEPS else len(STEPS)
    view = []
    for i, name in enumerate(STEPS):
        mine = [r for r in runs if r["step"] == name]
        if i < done_upto:
            state, progress = "done", 1.0
        elif i == done_upto:
            state = {"queued": "pending", "completed": "done"}.get(row["status"], row["status"])
            progress = float(row["progress"])
        else:
            state, progress = "pending", 0.0
        seconds = sum((r["finished_at"] - r["started_at"]).total_seconds()
                      for r in mine if r["finished_at"] and r["outcome"] == "succeeded")
        view.append({"name": name, "state": state, "progress": round(progress, 3),
                     "attempts": len(mine), "seconds": round(seconds, 2) if seconds else None})
    return view


def _outputs_view(outputs: dict, storage, base_url: str) -> dict:
    """How the clip was rendered, and the URLs of its caption files and manifest."""
    view = {k: outputs[k] for k in ("format", "method", "captions_burned_in", "enhanced") if k in outputs}
    for kind, field in (("srt", "srt_url"), ("vtt", "vtt_url"), ("manifest", "manifest_url")):
        view[field] = absolute(base_url, storage.url(outputs[kind])) if outputs.get(kind) else None
    return view


def transcript_warnings(row: dict) -> list[str]:
    """What the submitter should know about the transcript: speech it may have lost."""
    coverage = row.get("coverage")
    if coverage is None or coverage >= COVERAGE_WARNING:
        return []
    return [f"the transcript covers {coverage:.0%} of the speech detected in the audio; "
            "some speech may be missing from it and from the clips' captions"]


def status_view(row: dict, runs: list[dict], clips: list[dict], storage, base_url: str) -> dict:
    steps = steps_view(row, runs)
    overall = sum(s["progress"] for s in steps) / len(steps)
    body = {
        "token": row["token"],
        "status": row["status"],
        "pipeline_step": row["pipeline_step"],
        "progress": round(float(row["progress"]), 3),
        "overall_progress": round(overall, 3),
        "attempts": row["attempts"],
        "max_attempts": row["max_attempts"],
        "retry_at": row["run_after"].isoformat() if row["status"] == "retrying" else None,
        "steps": steps,
        "failure_cause": row["failure_cause"],
        "failure_details": row["failure_details"],
        "video": {
            "title": row["title"],
            "source": row["source_url"] if row["source_kind"] == "url" else "upload",
            "duration_s": row["duration_s"],
            "language": row["language"],
            "languages": row.get("languages") or [],
            "content_type": row["content_type"],
            "content_confidence": row["content_confidence"],
        },
        "usage": {"tokens": (row["analysis_tokens"] or 0) + (row["clip_tokens"] or 0),
                  "cost_usd": float(row["cost_usd"] or 0)},
        "created_at": row["created_at"].isoformat(),
        "finished_at": row["finished_at"].isoformat() if row["finished_at"] else None,
    }
    body["warnings"] = transcript_warnings(row)
    if row["pipeline_step"] not in ("download", "transcribe"):
        t = f"{base_url.rstrip('/')}/public/video/transcript?token={row['token']}"
        body["transcript"] = {"json": t, "srt": t + "&format=srt", "vtt": t + "&format=vtt",
                              "coverage": row.get("coverage"), "speech_s": row.get("speech_s"),
                              "audio_track": row.get("audio_track")}
    if clips:
        body["clips"] = [{
            "index": c["clip_index"],
            "start_s": round(c["start_s"], 3),
            "end_s": round(c["end_s"], 3),
            "duration_s": round(c["end_s"] - c["start_s"], 3),
            "title": c["title"],
            "reason": c["reason"],
            "hook": c["hook"],
            "score": round(float(c["score"]), 1),
            "url": absolute(base_url, storage.url(c["video_key"])) if c["video_key"] else None,
            "thumbnail_url": absolute(base_url, storage.url(c["thumbnail_key"])) if c["thumbnail_key"] else None,
            **_outputs_view(c.get("outputs") or {}, storage, base_url),
        } for c in clips]
    return body
