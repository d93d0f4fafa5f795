"""The API contract: every request and response body as a pydantic model.

Requests are validated from these models (server/api/contract.py), and /openapi.json is
generated from the same models (server/api/openapi.py), so the two cannot drift.
Requests are strict: JSON integers are integers (`1.9`, `true`, `1e400` and `Infinity`
are refused), booleans are booleans, unknown fields are refused, and strings refuse NUL
and other control characters (lone surrogates are invalid JSON already). Responses
declare every property and nothing more (`additionalProperties: false`), so the
schemathesis run can check them strictly.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from server.core.model import CAPTION_POSITIONS, CAPTION_PRESETS, CAPTION_SIZES, FORMATS, TOPIC_MAX_CHARS
from server.core.speech import WHISPER_LANGUAGES
from server.core.webhooks import DEFAULT_EVENTS, EVENTS
from server.core.steps import DONE, STEPS, Status, Step
from server.usecases.submit import SubmitOptions

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"
TOKENS_PATTERN = r"^[A-Za-z0-9_-]{1,100}(,[A-Za-z0-9_-]{1,100}){0,49}$"
PRINTABLE_PATTERN = r"^[^\u0000-\u001f\u007f]*$"
COLOUR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}$"
# What a broken pattern means, in words.
_PATTERN_WORDS = {TOKEN_PATTERN: "is malformed (letters, digits, - and _ only, at most 100)",
                  TOKENS_PATTERN: "must be 1 to 50 tokens separated by commas",
                  PRINTABLE_PATTERN: "must not contain control characters",
                  COLOUR_PATTERN: "must be a colour written #RRGGBB, like #FFD600",
                  LANGUAGE_PATTERN: "must be a language code such as en, de or yue"}

# A string without control characters (NUL included: Postgres refuses it in text).
Text = Annotated[str, Field(pattern=PRINTABLE_PATTERN)]
Token = Annotated[str, Field(min_length=1, max_length=100, pattern=TOKEN_PATTERN)]
Format = Literal[FORMATS]  # type: ignore[valid-type]
Colour = Annotated[str, Field(pattern=COLOUR_PATTERN)]
Event = Literal[EVENTS]  # type: ignore[valid-type]


class Request(BaseModel):
    """JSON request bodies: strict types, no unknown fields."""
    model_config = ConfigDict(strict=True, extra="forbid")


class Response(BaseModel):
    """Response bodies: every property declared, nothing else sent."""
    model_config = ConfigDict(extra="forbid")


# --- requests ----------------------------------------------------------------------------

class CaptionStyleIn(Request):
    """A preset, with any of its parts changed. Unset: the preset's (classic when no
    preset is named). `x-presets` in the schema lists what each preset sets (the web page
    reads it from /openapi.json)."""
    model_config = ConfigDict(strict=True, extra="forbid", json_schema_extra={
        "x-presets": {name: asdict(style) for name, style in CAPTION_PRESETS.items()}})
    preset: Literal[tuple(CAPTION_PRESETS)] | None = Field(  # type: ignore[valid-type]
        None, description="classic (medium, yellow, bottom), bold (large, cyan, middle), "
                          "minimal (small, lime, bottom), headline (large, pink, top)")
    size: Literal[tuple(CAPTION_SIZES)] | None = Field(  # type: ignore[valid-type]
        None, description="Font size relative to the frame's width")
    highlight: Colour | None = Field(None, description="Colour of the word being spoken, #RRGGBB")
    position: Literal[CAPTION_POSITIONS] | None = Field(  # type: ignore[valid-type]
        None, description="bottom sits above the bottom third on vertical video, clear of "
                          "the platforms' buttons")


class RenderChoicesIn(Request):
    format: Format | None = Field(None, description="landscape (source aspect), vertical "
                                                    "(1080x1920) or square (1080x1080); "
                                                    "unset: CLIP_FORMAT")
    captions: bool | None = Field(None, description="Burn word-by-word captions into vertical "
                                                    "and square clips; unset: CLIP_CAPTIONS")
    caption_style: CaptionStyleIn | None = Field(None, description="How burned-in captions look")


class SubmitOptionsIn(RenderChoicesIn):
    priority: int = Field(0, ge=-100, le=100, description="Higher is processed first")
    force: bool = Field(False, description="Redo the download and transcript even when an "
                                           "earlier submission of the same source has them")
    enhance: bool | None = Field(None, description="RNNoise speech enhancement before loudness "
                                                   "normalisation; unset: CLIP_ENHANCE")
    # The clip controls. This server's own bounds (settings) are checked by the use case.
    min_clip_s: float | None = Field(None, ge=1, allow_inf_nan=False,
                                     description="Shortest clip, seconds, from CLIP_MIN_SECONDS "
                                                 "(15 by default) to CLIP_MAX_SECONDS (90) and at "
                                                 "most max_clip_s; unset: CLIP_MIN_SECONDS")
    max_clip_s: float | None = Field(None, ge=1, allow_inf_nan=False,
                                     description="Longest clip, seconds, from CLIP_MIN_SECONDS to "
                                                 "CLIP_MAX_SECONDS; unset: CLIP_MAX_SECONDS")
    max_clips: int | None = Field(None, ge=1,
                                  description="Most clips, 1 to CLIP_MAX_COUNT (10 by default): as "
                                              "many as stand alone, up to this; unset: one per 2 "
                                              "minutes of speech, up to 3 in a short video")
    topic: Text | None = Field(None, max_length=TOPIC_MAX_CHARS,
                               description="A subject, in free text: clips about it rank first "
                                           "(`notice` says when nothing is about it)")
    allow_short: bool = Field(False, description="Speech shorter than the shortest clip gives one "
                                                 "clip of all of it (else no clip and a notice)")
    language: str | None = Field(None, pattern=LANGUAGE_PATTERN,
                                 description="The spoken language as a Whisper language code "
                                             "(en, de, yue...), transcribed as that language "
                                             "throughout; unset: detected per stretch of speech")
    webhook_url: Text | None = Field(None, min_length=1, max_length=2048,
                                     description="http(s) URL that gets a signed POST (Standard "
                                                 "Webhooks) for each event; it must resolve to public "
                                                 "addresses. Signed with the API key's webhook "
                                                 "secret, or WEBHOOK_SECRET without a key")
    webhook_events: list[Event] | None = Field(
        None, min_length=1, max_length=len(EVENTS),
        description=f"Which events to send; unset: {', '.join(DEFAULT_EVENTS)}. "
                    "video.step_completed comes once per finished step")

    @field_validator("language", mode="after")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in WHISPER_LANGUAGES:
            raise ValueError(f"{value!r} is not a language code Whisper knows (e.g. en, de, es)")
        return value

    def to_options(self, idempotency_key: str | None) -> SubmitOptions:
        style = self.caption_style.model_dump(exclude_none=True) if self.caption_style else None
        return SubmitOptions(priority=self.priority, force=self.force, format=self.format,
                             captions=self.captions, enhance=self.enhance, caption_style=style,
                             min_clip_s=self.min_clip_s, max_clip_s=self.max_clip_s,
                             max_clips=self.max_clips, topic=self.topic,
                             allow_short=self.allow_short, language=self.language,
                             idempotency_key=idempotency_key, webhook_url=self.webhook_url,
                             webhook_events=tuple(self.webhook_events) if self.webhook_events else None)


class SubmitUrlIn(SubmitOptionsIn):
    video_url: Text = Field(min_length=1, max_length=2048,
                            description="http(s) URL of a page yt-dlp understands or of a media "
                                        "file; it must resolve to public addresses")


def _file_field(schema: dict[str, Any]) -> None:
    schema.setdefault("properties", {})["file"] = {"type": "string", "format": "binary"}
    schema.setdefault("required", []).insert(0, "file")


class SubmitFormIn(SubmitOptionsIn):
    """The same options as form fields beside `file` (form values are text, so "5" is 5
    and "true"/"yes"/"1" are true; "1.0" and "1e2" are not whole numbers as written;
    `caption_style` is a JSON object as text; webhook_events is comma-separated)."""
    model_config = ConfigDict(strict=False, extra="forbid", json_schema_extra=_file_field)

    @field_validator("priority", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"[+-]?[0-9]{1,9}", value.strip()):
            raise ValueError("Input should be a whole number, like 5 or -3")
        return value

    @field_validator("caption_style", mode="before")
    @classmethod
    def _json_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise ValueError('must be a JSON object such as {"preset": "bold"}') from None
        return value

    @field_validator("webhook_events", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",")] if isinstance(value, str) else value


class AudioFormIn(Request):
    model_config = ConfigDict(strict=False, extra="forbid", json_schema_extra=_file_field)


class SubmitHeaders(BaseModel):
    idempotency_key: Text | None = Field(None, alias="Idempotency-Key", max_length=200,
                                         description="The same key returns the same token")


class TokenQuery(BaseModel):
    token: Token = Field(description="The token the submission returned")


class TranscriptQuery(TokenQuery):
    format: Literal["json", "srt", "vtt"] = "json"
    download: bool = Field(False, description="Send as an attachment (to save) rather than "
                                              "to show; the name is <video>-transcript.<format> "
                                              "either way")


class TokensQuery(BaseModel):
    tokens: str = Field(pattern=TOKENS_PATTERN, max_length=5100,
                        description="Up to 50 tokens, separated by commas")


class ClipFileQuery(TokenQuery):
    index: int = Field(ge=0, le=10_000, description="The clip's index")
    file: Literal["mp4", "jpg", "srt", "vtt", "json"] = Field(
        "mp4", description="mp4 (the clip), jpg (its thumbnail), srt or vtt (its captions), "
                           "json (its manifest)")


class ClipRenderIn(RenderChoicesIn):
    """Renders one clip again. Unset options keep the clip's current ones."""
    token: Token = Field(description="The video's token")
    index: int = Field(ge=0, le=10_000, description="The clip's index")
    start_s: float = Field(ge=0, allow_inf_nan=False, description="New start in the source, seconds; snapped to the "
                                            "start of the first word at or after it")
    end_s: float = Field(gt=0, allow_inf_nan=False, description="New end in the source, seconds; snapped to the end "
                                          "of the last word at or before it")


class CancelIn(Request):
    token: Token


STATUS_LIST_PATTERN = r"^[a-z]+(,[a-z]+)*$"


class VideoListQuery(BaseModel):
    cursor: str | None = Field(None, max_length=100, pattern=TOKEN_PATTERN,
                               description="next_cursor of the previous page; unset: the newest")
    limit: int = Field(20, ge=1, le=100, description="Videos per page")
    status: str | None = Field(None, max_length=100, pattern=STATUS_LIST_PATTERN,
                               description="Only videos in these statuses, comma-separated "
                                           f"({', '.join(Status)})")

    @field_validator("status")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        unknown = sorted(set((value or "").split(",")) - set(Status) - {""})
        if unknown:
            raise ValueError(f"unknown status {', '.join(unknown)}; choose from {', '.join(Status)}")
        return value

    def statuses(self) -> list[str] | None:
        return self.status.split(",") if self.status else None


class CreateUploadIn(Request):
    filename: Text = Field(min_length=1, max_length=255)
    size: StrictInt = Field(ge=1, description="The whole file's size in bytes")


class ChunkHeaders(BaseModel):
    content_range: str = Field(alias="Content-Range", pattern=r"^bytes [0-9]{1,15}-[0-9]{1,15}/[0-9]{1,15}$",
                               description="bytes <first>-<last>/<size>, inclusive")


class CompleteUploadIn(Request):
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the whole file, hex")


class ProcessIn(Request):
    limit: int | None = Field(None, ge=1, description="Claim at most this many jobs")


# --- responses ---------------------------------------------------------------------------

class ErrorOut(Response):
    error: str
    missing: list[str] | None = Field(None, description="Byte ranges still missing (409 on complete)")
    failure_cause: str | None = Field(None, description="A failed job's cause")


class TokenOut(Response):
    token: str


class StepOut(Response):
    name: Literal[STEPS]  # type: ignore[valid-type]
    state: Literal["pending", "running", "retrying", "done", "failed", "cancelled"]
    progress: float = Field(ge=0, le=1)
    attempts: int
    seconds: float | None


class LanguageShareOut(Response):
    language: str
    share: float = Field(ge=0, le=1, description="Of the speech time")
    speech_s: float


class VideoOut(Response):
    title: str | None
    source: str = Field(description="The submitted URL, or \"upload\"")
    media_url: str | None = Field(None, description="The stored source, once downloaded, to "
                                                    "preview; supports Range")
    duration_s: float | None
    language: str | None = Field(description="The main language: the largest share of the speech")
    languages: list[LanguageShareOut] = Field(
        default_factory=list, description="Each language spoken, largest share first; once transcribed")
    content_type: str | None
    content_confidence: float | None


class UsageOut(Response):
    tokens: int
    cost_usd: float = Field(description="An estimate from a per-model price table")


class TranscriptLinksOut(Response):
    json_url: str = Field(alias="json", serialization_alias="json")
    srt: str
    vtt: str
    coverage: float | None = Field(None, description="Share of the voice-activity time the words cover")
    speech_s: float | None = Field(None, description="Voice-activity seconds in the audio")
    audio_track: dict[str, Any] | None = Field(
        None, description="The audio track transcribed: index, count, reason, language, title")
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class CaptionStyleOut(Response):
    preset: str | None
    size: str
    highlight: str
    position: str


class RenderJobOut(Response):
    """The clip's latest re-render: its own job, apart from the video's."""
    token: str = Field(description="The re-render job's handle")
    status: Status
    progress: float = Field(ge=0, le=1)
    attempts: int
    start_s: float
    end_s: float
    retry_at: str | None
    failure_cause: str | None
    failure_details: str | None
    created_at: str
    finished_at: str | None


class ClipDownloadsOut(Response):
    """The clip's files as attachments named <video>-<nn>-<title>.<ext>."""
    video: str
    thumbnail: str | None
    srt: str | None
    vtt: str | None
    manifest: str | None


class ClipOut(Response):
    index: int
    start_s: float
    end_s: float
    duration_s: float
    title: str
    reason: str
    hook: str
    score: float = Field(ge=0, le=100)
    url: str | None
    thumbnail_url: str | None
    format: Format | None = None
    method: str | None = Field(None, description="smart_cut, full_encode, reframe, blurred_fit, audio_only")
    captions_burned_in: bool | None = None
    enhanced: bool | None = None
    srt_url: str | None = None
    vtt_url: str | None = None
    manifest_url: str | None = Field(None, description="JSON: title, reason, hook, score, format, "
                                                       "source times and every word")
    captions: bool | None = Field(None, description="Whether captions were asked for")
    caption_style: CaptionStyleOut | None = None
    downloads: ClipDownloadsOut | None = Field(None, description="Present once rendered")
    render: RenderJobOut | None = Field(None, description="The latest re-render of this clip, "
                                                          "if it was rendered again")


class WebhookAttemptOut(Response):
    attempt: int
    started_at: str
    finished_at: str | None = Field(description="null while sending, or when the worker died "
                                                "mid-attempt (another attempt follows)")
    status_code: int | None = Field(description="The receiver's answer; null when none came")
    error: str | None


class WebhookDeliveryOut(Response):
    id: str = Field(description="The webhook-id header: the same on every attempt of this event")
    event: Event
    step: str | None = Field(description="The step that finished (video.step_completed)")
    occurred_at: str
    state: Literal["pending", "sending", "retrying", "delivered", "failed"]
    retry_at: str | None
    failure_cause: str | None
    attempts: list[WebhookAttemptOut]


class StatusOut(Response):
    token: str
    status: Status
    pipeline_step: Literal[STEPS + (DONE,)]  # type: ignore[valid-type]
    progress: float = Field(ge=0, le=1, description="Within the current step")
    overall_progress: float = Field(ge=0, le=1)
    attempts: int
    max_attempts: int
    retry_at: str | None
    steps: list[StepOut]
    failure_cause: str | None
    failure_details: str | None
    video: VideoOut
    usage: UsageOut
    created_at: str
    finished_at: str | None
    transcript: TranscriptLinksOut | None = Field(None, description="Present once transcribed")
    warnings: list[str] = Field(default_factory=list,
                                description="What the submitter should know: speech the transcript may miss, "
                                            "or that the job waits for another submission of the same source")
    clips: list[ClipOut] | None = Field(None, description="Present once clips are searched for "
                                                          "(always on a completed job); may be empty")
    notice: str | None = Field(None, description="Why there are fewer clips than asked for, none, "
                                                 "or clips off the topic asked for, in words; "
                                                 "present after the clip search when there is "
                                                 "something to say")
    webhooks: list[WebhookDeliveryOut] | None = Field(
        None, description="The deliveries of this video's webhook events, once there are any")
    archive_url: str | None = Field(None, description="Everything in one zip (clips, thumbnails, "
                                                      "captions, manifests, transcript); present "
                                                      "once transcribed")


class VideoListOut(Response):
    videos: list[StatusOut] = Field(description="Newest first; each as the status endpoint gives it")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


class BriefOut(Response):
    token: str
    status: Status
    pipeline_step: Literal[STEPS + (DONE,)]  # type: ignore[valid-type]
    overall_progress: float = Field(ge=0, le=1)
    title: str | None
    source: str = Field(description="The submitted URL, or \"upload\"")
    failure_cause: str | None
    clips: int = Field(description="Clips found so far")
    rendering: int = Field(description="Clips being rendered again now")
    created_at: str
    finished_at: str | None


class StatusesOut(Response):
    videos: list[BriefOut] = Field(description="In the order asked")
    unknown: list[str] = Field(description="Tokens that name no video")


class ClipRenderOut(Response):
    token: str = Field(description="The re-render job's handle; follow it in the video's status, "
                                   "clips[index].render")
    video_token: str
    index: int
    status: Literal["queued"]
    start_s: float = Field(description="After snapping to words")
    end_s: float


class WordOut(Response):
    start: float
    end: float
    word: str
    probability: float


class SegmentOut(Response):
    start: float
    end: float
    text: str
    words: list[WordOut]
    language: str | None = None


class TranscriptOut(Response):
    language: str
    engine: str
    model: str
    duration_s: float
    segments: list[SegmentOut]


class CancelOut(Response):
    token: str
    status: Literal["cancelled"]


class UploadCreatedOut(Response):
    upload_id: str
    size: int
    max_chunk_bytes: int


class UploadOut(Response):
    upload_id: str
    size: int
    received_bytes: int
    missing: list[str] = Field(description="Byte ranges not yet received, as first-last")
    status: Literal["open", "completing", "completed"]
    token: str | None


class AudioJobOut(Response):
    token: str
    status: Literal["queued", "running", "retrying"]
    progress: float = Field(ge=0, le=1)
    attempts: int
    retry_at: str | None
    failure_cause: str | None = Field(description="The last failure while retrying")


class ClaimedOut(Response):
    token: str
    step: Literal[tuple(s.value for s in Step)]  # type: ignore[valid-type]
    attempt: int


class ProcessOut(Response):
    claimed: list[ClaimedOut]
    free_slots: int


class HealthOut(Response):
    ok: bool
    database: Literal["ok", "unreachable"]


# --- errors ------------------------------------------------------------------------------

def describe(e: ValidationError) -> str:
    """A validation error as one sentence that names each field."""
    parts = []
    for err in e.errors():
        field = ".".join(str(p) for p in err["loc"]) or "the body"
        if err["type"] == "missing":
            parts.append(f"{field} is required")
        elif err["type"] == "extra_forbidden":
            parts.append(f"{field} is not a known field")
        elif err["type"] == "string_pattern_mismatch":
            pattern = (err.get("ctx") or {}).get("pattern", "")
            parts.append(f"{field} {_PATTERN_WORDS.get(pattern, 'does not match ' + pattern)}")
        elif err["type"] == "json_invalid":
            parts.append(f"the body is not valid JSON ({err['msg'].removeprefix('Invalid JSON: ')})")
        else:
            parts.append(f"{field}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)
