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

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator

from server.core.model import FORMATS, TOPIC_MAX_CHARS
from server.core.speech import WHISPER_LANGUAGES
from server.core.webhooks import DEFAULT_EVENTS, EVENTS
from server.core.steps import DONE, STEPS, Status, Step
from server.usecases.submit import SubmitOptions

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,100}$"
PRINTABLE_PATTERN = r"^[^\u0000-\u001f\u007f]*$"
LANGUAGE_PATTERN = r"^[a-z]{2,3}$"
# What a broken pattern means, in words.
_PATTERN_WORDS = {TOKEN_PATTERN: "is malformed (letters, digits, - and _ only, at most 100)",
                  PRINTABLE_PATTERN: "must not contain control characters",
                  LANGUAGE_PATTERN: "must be a language code such as en, de or yue"}

# A string without control characters (NUL included: Postgres refuses it in text).
Text = Annotated[str, Field(pattern=PRINTABLE_PATTERN)]
Token = Annotated[str, Field(min_length=1, max_length=100, pattern=TOKEN_PATTERN)]
Format = Literal[FORMATS]  # type: ignore[valid-type]
Event = Literal[EVENTS]  # type: ignore[valid-type]


class Request(BaseModel):
    """JSON request bodies: strict types, no unknown fields."""
    model_config = ConfigDict(strict=True, extra="forbid")


class Response(BaseModel):
    """Response bodies: every property declared, nothing else sent."""
    model_config = ConfigDict(extra="forbid")


# --- requests ----------------------------------------------------------------------------

class SubmitOptionsIn(Request):
    priority: int = Field(0, ge=-100, le=100, description="Higher is processed first")
    force: bool = Field(False, description="Redo the download and transcript even when an "
                                           "earlier submission of the same source has them")
    format: Format | None = Field(None, description="landscape (source aspect), vertical "
                                                    "(1080x1920) or square (1080x1080); "
                                                    "unset: CLIP_FORMAT")
    captions: bool | None = Field(None, description="Burn word-by-word captions into vertical "
                                                    "and square clips; unset: CLIP_CAPTIONS")
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
        return SubmitOptions(priority=self.priority, force=self.force, format=self.format,
                             captions=self.captions, enhance=self.enhance,
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
    webhook_events is comma-separated)."""
    model_config = ConfigDict(strict=False, extra="forbid", json_schema_extra=_file_field)

    @field_validator("priority", mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if isinstance(value, str) and not re.fullmatch(r"[+-]?[0-9]{1,9}", value.strip()):
            raise ValueError("Input should be a whole number, like 5 or -3")
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
                                description="What the submitter should know, e.g. speech the transcript may miss")
    clips: list[ClipOut] | None = Field(None, description="Present once clips are searched for "
                                                          "(always on a completed job); may be empty")
    notice: str | None = Field(None, description="Why there are fewer clips than asked for, none, "
                                                 "or clips off the topic asked for, in words; "
                                                 "present after the clip search when there is "
                                                 "something to say")
    webhooks: list[WebhookDeliveryOut] | None = Field(
        None, description="The deliveries of this video's webhook events, once there are any")


class VideoListOut(Response):
    videos: list[StatusOut] = Field(description="Newest first; each as the status endpoint gives it")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last")


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
