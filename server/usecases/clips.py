"""A person's fix of one clip: new start and end (snapped to words), another format or other
captions, rendered again as a job of kind `clip_render` in the same queue as videos.

The job reads the stored source and transcript; it never downloads, transcribes or looks
for clips again. When it completes, the new version replaces the clip (same index, new
files at new URLs), and the video's own job is never touched, so its status stays true."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from server.core.edits import BadEdit, snap_to_words, words_of
from server.core.model import CaptionStyle, RenderOptions
from server.core.stores import Row
from server.services import Services
from server.usecases import Refused
from server.usecases.submit import new_token

# A person waits for this one clip, while a video's five steps may take many minutes: the
# re-render goes ahead of ordinary submissions (priority 0) but not of urgent ones.
RENDER_PRIORITY = 10
LIVE = ("queued", "running", "retrying")


@dataclass
class ClipEdit:
    """What the person asked for; None keeps the clip's current choice."""
    index: int
    start_s: float
    end_s: float
    format: str | None = None
    captions: bool | None = None
    caption_style: dict | None = None      # {preset, size, highlight, position}, each optional


@dataclass
class QueuedRender:
    token: str                 # the render job's own handle
    index: int
    start_s: float             # the bounds after snapping to words
    end_s: float


def current_options(s: Services, video: Row, clip: Row) -> RenderOptions:
    """How the clip was rendered last (its outputs), else as the video asked, else the
    settings' defaults."""
    chosen = {**(video.get("options") or {}), **(clip.get("outputs") or {})}
    return RenderOptions(chosen.get("format") or s.cfg.clip_format,
                         s.cfg.clip_captions if chosen.get("captions") is None else chosen["captions"],
                         s.cfg.clip_enhance if chosen.get("enhance") is None else chosen["enhance"],
                         CaptionStyle.from_dict(chosen.get("caption_style")))


def rerender(s: Services, token: str, edit: ClipEdit) -> QueuedRender:
    video = s.videos.status(token)
    if video is None:
        raise Refused("not_found", "no video with this token")
    if video["status"] != "completed":
        raise Refused("conflict", f"the video's clips are not ready (the job is {video['status']}); "
                                  "a clip can be rendered again once the video has completed")
    clip = next((c for c in s.checkpoints.clips(video["video_id"]) if c["clip_index"] == edit.index), None)
    if clip is None:
        raise Refused("not_found", f"the video has no clip with index {edit.index}")
    transcript = s.checkpoints.transcript(video["video_id"])
    if transcript is None:          # a completed video always has one; this is a bug
        raise RuntimeError(f"completed video {token} has no transcript")
    try:
        start, end = snap_to_words(words_of(transcript["segments"]), edit.start_s, edit.end_s)
    except BadEdit as e:
        raise Refused("invalid", str(e)) from None
    before = current_options(s, video, clip)
    style = before.caption_style if edit.caption_style is None else \
        CaptionStyle.choose(**edit.caption_style)
    options = RenderOptions(edit.format or before.format,
                            before.captions if edit.captions is None else edit.captions,
                            before.enhance, style)
    preset = (edit.caption_style or {}).get("preset") or \
        ((clip.get("outputs") or {}).get("caption_style") or {}).get("preset")
    payload = {"clip_index": edit.index, "start_s": start, "end_s": end,
               "options": {**options.to_dict(),
                           "caption_style": {"preset": preset, **asdict(options.caption_style)}}}
    job_token = new_token()
    if not s.jobs.enqueue_clip_render(video_id=video["video_id"], token=job_token, payload=payload,
                                      priority=RENDER_PRIORITY, max_attempts=s.cfg.max_attempts):
        raise Refused("conflict", f"clip {edit.index} is already being rendered again; "
                                  "wait for that render to finish")
    return QueuedRender(job_token, edit.index, start, end)


def latest_renders(renders: list[Row]) -> dict[int, Row]:
    """The most recent re-render job of each clip, by clip index."""
    latest: dict[int, Row] = {}
    for r in renders:               # oldest first, so the last one wins
        latest[int(r["payload"]["clip_index"])] = r
    return latest
