"""Every setting the server, its gunicorn and `scripts/cron.sh` read: one typed model.

Values come from the environment, then from `.env` in the working directory when there is
one; empty values count as unset. A bad value stops the process at start with the
variable's name (`load_settings`). `.env.example` and the README's settings table are
generated from this model (`python -m server settings --env-example` / `--markdown`), and
a test keeps both in step with it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from server.core.model import FORMATS
from server.core.speech import WHISPER_LANGUAGES
from server.core.steps import Kind, Step

SECTIONS = ("Storage of state", "Web", "Limits", "API keys and webhooks", "Queue", "Transcription",
            "Analysis", "Rendering", "Media storage", "Cron caller", "Development")


def env(name: str, default: Any, doc: str, section: str, **kw: Any) -> Any:
    """A setting read from the environment variable `name`."""
    return Field(default, validation_alias=name, description=doc,
                 json_schema_extra={"section": section}, **kw)


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      populate_by_name=True, env_ignore_empty=True,
                                      validate_assignment=True)

    # --- Storage of state
    data_dir: Path = env("DATA_DIR", Path("./data"),
                         "embedded Postgres, local media, joined models, work files", "Storage of state")
    database_url: str = env("DATABASE_URL", "",
                            "unset: an embedded Postgres under DATA_DIR, started once and reused; "
                            "set: any Postgres, Supabase included", "Storage of state")
    db_transaction_pooler: bool = env("DB_TRANSACTION_POOLER", False,
                                      "true behind a transaction pooler (Supabase port 6543): "
                                      "no prepared statements", "Storage of state")
    db_pool_size: int = env("DB_POOL_SIZE", 8, "connections each process keeps at most",
                            "Storage of state", ge=1)
    db_startup_wait_s: float = env("DB_STARTUP_WAIT_SECONDS", 60.0,
                                   "how long a starting server, worker or command waits for a "
                                   "database it cannot reach yet; one that answers and refuses "
                                   "(a wrong role, password or database name) fails at once",
                                   "Storage of state", ge=0)

    # --- Web
    bind: str = env("BIND", "", "address gunicorn listens on; unset: 0.0.0.0:$PORT when PORT is "
                    "set, else 127.0.0.1:8000", "Web")
    port: int | None = env("PORT", None, "set by container platforms; used when BIND is unset",
                           "Web", ge=1, le=65535)
    gunicorn_workers: int = env("GUNICORN_WORKERS", 2, "gunicorn worker processes", "Web", ge=1)
    gunicorn_threads: int = env("GUNICORN_THREADS", 4,
                                "threads per gunicorn worker that run the app on complete requests "
                                "(slow clients wait in the worker's event loop, not in these)", "Web", ge=1)
    gunicorn_timeout_s: int = env("GUNICORN_TIMEOUT", 120,
                                  "seconds a request body may pause before the request is dropped; "
                                  "a worker silent this long is restarted", "Web", ge=1)
    gunicorn_graceful_timeout_s: int = env("GUNICORN_GRACEFUL_TIMEOUT", 30,
                                           "seconds workers get to finish on shutdown", "Web", ge=1)
    access_log: bool = env("ACCESS_LOG", True, "gunicorn's access log on standard output", "Web")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = env(
        "LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR", "Web")
    public_base_url: str = env("PUBLIC_BASE_URL", "",
                               "e.g. https://clips.example.com; unset: the request's host", "Web")
    internal_api_token: str = env("INTERNAL_API_TOKEN", "",
                                  "bearer token for /internal/*; unset refuses every call", "Web")
    internal_concurrency: int = env("INTERNAL_CONCURRENCY", 2,
                                    "steps one web process runs at once for cron calls", "Web", ge=1)
    cors_origins: str = env("CORS_ORIGINS", "",
                            "comma-separated origins allowed to call /public/*, or *", "Web")
    trusted_proxy_count: int = env("TRUSTED_PROXY_COUNT", 0,
                                   "reverse proxies in front whose X-Forwarded-For is believed", "Web", ge=0)

    # --- Limits
    max_upload_bytes: int = env("MAX_UPLOAD_BYTES", 2 << 30, "largest uploaded file", "Limits", ge=1)
    max_download_bytes: int = env("MAX_DOWNLOAD_BYTES", 4 << 30, "largest downloaded file", "Limits", ge=1)
    max_duration_s: float = env("MAX_DURATION_S", 4 * 3600.0, "longest video, in seconds", "Limits", gt=0)
    max_request_bytes: int = env("MAX_REQUEST_BYTES", 65536,
                                 "body of any request that is not an upload", "Limits", ge=1024)
    max_audio_enhance_bytes: int = env("MAX_AUDIO_ENHANCE_BYTES", 200 << 20,
                                       "largest file for /public/audio/enhance", "Limits", ge=1)
    allow_private_urls: bool = env("ALLOW_PRIVATE_URLS", False,
                                   "true only for development: lets URLs point at private addresses",
                                   "Limits")
    rate_limit_submit_per_min: float = env("RATE_LIMIT_SUBMIT_PER_MIN", 10.0,
                                           "submissions per client address and web process; 0 = unlimited",
                                           "Limits", ge=0)
    rate_limit_status_per_min: float = env("RATE_LIMIT_STATUS_PER_MIN", 120.0,
                                           "status and transcript polls, same rules", "Limits", ge=0)

    # --- API keys and webhooks
    allow_anonymous_submit: bool = env(
        "ALLOW_ANONYMOUS_SUBMIT", True, "true: submissions need no API key (the demo); false: "
        "submitting a video, an upload or audio needs `Authorization: Bearer <key>`",
        "API keys and webhooks")
    api_key_rate_per_min: float = env(
        "API_KEY_RATE_PER_MIN", 120.0, "requests a minute for each API key, over every web "
        "process (a key's own rate overrides it); 0 = unlimited", "API keys and webhooks", ge=0)
    api_key_videos_per_day: int = env(
        "API_KEY_VIDEOS_PER_DAY", 100, "videos each API key may submit per UTC day (a key's own "
        "quota overrides it); 0 = unlimited", "API keys and webhooks", ge=0)
    api_key_source_minutes_per_day: float = env(
        "API_KEY_SOURCE_MINUTES_PER_DAY", 600.0, "minutes of source video each API key may "
        "submit per UTC day (a key's own quota overrides it); 0 = unlimited",
        "API keys and webhooks", ge=0)
    webhook_secret: str = env(
        "WEBHOOK_SECRET", "", "whsec_<base64>: signs the webhooks of submissions made without a "
        "key; unset: those cannot ask for webhooks (a key's webhooks use the key's own secret)",
        "API keys and webhooks", pattern=r"^(whsec_[A-Za-z0-9+/]{32,}={0,2})?$")
    webhook_max_attempts: int = env("WEBHOOK_MAX_ATTEMPTS", 12, "attempts to deliver one event",
                                    "API keys and webhooks", ge=1)
    webhook_backoff_base_s: float = env("WEBHOOK_BACKOFF_BASE_SECONDS", 10.0,
                                        "first delay before a delivery is retried",
                                        "API keys and webhooks", gt=0)
    webhook_backoff_max_s: float = env("WEBHOOK_BACKOFF_MAX_SECONDS", 3600.0,
                                       "longest delay between delivery attempts",
                                       "API keys and webhooks", gt=0)
    webhook_timeout_s: float = env("WEBHOOK_TIMEOUT_SECONDS", 10.0,
                                   "how long a receiver may take to connect and answer",
                                   "API keys and webhooks", gt=0)

    # --- Queue
    max_attempts: int = env("MAX_ATTEMPTS", 5, "attempts of one step before the job fails", "Queue", ge=1)
    lease_s: float = env("LEASE_SECONDS", 60.0, "lease a worker takes on a step", "Queue", gt=0)
    step_lease_s: dict[Step, float] = env(
        "STEP_LEASE_SECONDS", {}, 'per-step leases as JSON, e.g. {"transcribe": 300}; '
        "the others take LEASE_SECONDS", "Queue")
    backoff_base_s: float = env("BACKOFF_BASE_SECONDS", 10.0, "first retry delay", "Queue", gt=0)
    backoff_max_s: float = env("BACKOFF_MAX_SECONDS", 900.0, "longest retry delay", "Queue", gt=0)
    worker_steps: Annotated[tuple[Step, ...], NoDecode] = env(
        "WORKER_STEPS", tuple(Step), "comma-separated steps `worker` serves (every kind's)", "Queue")
    worker_concurrency: int = env("WORKER_CONCURRENCY", 2, "steps one worker runs at once", "Queue", ge=1)
    poll_interval_s: float = env("WORKER_POLL_SECONDS", 1.0, "how often an idle worker looks for work",
                                 "Queue", gt=0)
    step_runs_retention_days: float = env("STEP_RUNS_RETENTION_DAYS", 30.0,
                                          "workers delete finished attempt history older than this",
                                          "Queue", gt=0)

    # --- Transcription
    whisper_engine: Literal["faster-whisper", "openai-whisper"] = env(
        "WHISPER_ENGINE", "faster-whisper", "faster-whisper or openai-whisper", "Transcription")
    whisper_model: str = env("WHISPER_MODEL", "base",
                             "base (multilingual, packaged), tiny.en (packaged, English only), "
                             "a directory, or a model name your host can download", "Transcription")
    whisper_device: Literal["auto", "cpu", "cuda"] = env(
        "WHISPER_DEVICE", "auto", "auto: CUDA when a GPU is visible", "Transcription")
    whisper_compute_type: str = env("WHISPER_COMPUTE_TYPE", "auto",
                                    "auto: float16 on a GPU, int8 on a CPU", "Transcription")
    whisper_threads: int = env("WHISPER_THREADS", 0, "CPU threads; 0 = every core", "Transcription", ge=0)
    whisper_beam_size: int = env("WHISPER_BEAM_SIZE", 1, "1 = greedy decoding", "Transcription", ge=1)
    whisper_batch_size: int = env("WHISPER_BATCH_SIZE", 0,
                                  ">0: faster-whisper's batched decoding (16 on a GPU); 0: sequential, "
                                  "the CPU default: batching used as much CPU and made more word errors",
                                  "Transcription", ge=0)
    whisper_language: str = env("WHISPER_LANGUAGE", "",
                                "force one language (e.g. en); unset: detected per stretch of speech",
                                "Transcription")

    # --- Analysis
    openai_api_key: str = env("OPENAI_API_KEY", "",
                              "set: GPT analysis; unset: the offline analyzer", "Analysis")
    openai_base_url: str = env("OPENAI_BASE_URL", "", "any OpenAI-compatible endpoint", "Analysis")
    openai_model: str = env("OPENAI_MODEL", "gpt-4o", "model for classification and clip finding",
                            "Analysis")
    openai_timeout_s: float = env("OPENAI_TIMEOUT_SECONDS", 60.0, "per-request timeout", "Analysis", gt=0)
    openai_retries: int = env("OPENAI_RETRIES", 2, "in-step retries of 429, 5xx and timeouts",
                              "Analysis", ge=0)
    openai_max_wait_s: float = env("OPENAI_MAX_WAIT_SECONDS", 20.0,
                                   "longest Retry-After a worker sleeps; longer waits go back to "
                                   "the queue", "Analysis", ge=0)
    clip_min_s: float = env("CLIP_MIN_SECONDS", 15.0, "shortest clip", "Analysis", gt=0)
    clip_max_s: float = env("CLIP_MAX_SECONDS", 90.0, "longest clip", "Analysis", gt=0)
    clip_max_count: int = env("CLIP_MAX_COUNT", 10, "most clips per video", "Analysis", ge=1)

    # --- Rendering
    clip_format: Literal[FORMATS] = env(  # type: ignore[valid-type]
        "CLIP_FORMAT", "landscape", "default format: landscape, vertical or square", "Rendering")
    clip_captions: bool = env("CLIP_CAPTIONS", True,
                              "default: burn captions into vertical and square clips", "Rendering")
    clip_enhance: bool = env("CLIP_ENHANCE", False,
                             "default: RNNoise speech enhancement before loudness normalisation",
                             "Rendering")
    render_threads: int = env("RENDER_THREADS", 0, "encoder threads; 0 = ffmpeg's choice",
                              "Rendering", ge=0)

    # --- Media storage
    storage_backend: Literal["local", "supabase"] = env(
        "STORAGE_BACKEND", "local", "local (under DATA_DIR) or supabase", "Media storage")
    supabase_url: str = env("SUPABASE_URL", "", "https://<project>.supabase.co", "Media storage")
    supabase_service_key: str = env("SUPABASE_SERVICE_ROLE_KEY", "",
                                    "service role key for Storage", "Media storage")
    supabase_bucket: str = env("SUPABASE_BUCKET", "media", "private bucket for media", "Media storage")
    supabase_signed_url_s: int = env("SUPABASE_SIGNED_URL_SECONDS", 3600,
                                     "lifetime of signed media URLs", "Media storage", ge=60)
    storage_cache_max_bytes: int = env("STORAGE_CACHE_MAX_BYTES", 20 << 30,
                                       "local cache of remote media for ffmpeg and Whisper; least "
                                       "recently used goes first", "Media storage", ge=0)

    # --- Cron caller (scripts/cron.sh)
    clips_server_url: str = env("CLIPS_SERVER_URL", "http://127.0.0.1:8000",
                                "the server scripts/cron.sh calls", "Cron caller")
    cron_timeout_s: float = env("CRON_TIMEOUT_SECONDS", 10.0, "scripts/cron.sh's request timeout",
                                "Cron caller", gt=0)

    # --- Development
    noop_step_seconds: str = env("NOOP_STEP_SECONDS", "0.002,0.01",
                                 "`worker --pipeline noop` only: min,max seconds each step sleeps",
                                 "Development", pattern=r"^\d+(\.\d+)?(,\d+(\.\d+)?)?$")

    @field_validator("worker_steps", mode="before")
    @classmethod
    def _split_steps(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(s.strip() for s in value.split(",") if s.strip())
        return value

    @field_validator("whisper_language", mode="after")
    @classmethod
    def _known_language(cls, value: str) -> str:
        value = value.strip().lower()
        if value and value not in WHISPER_LANGUAGES:
            raise ValueError(f"{value!r} is not a language code Whisper knows (e.g. en, de, es)")
        return value

    @field_validator("data_dir", mode="after")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.resolve()

    def lease_for(self, step: str) -> float:
        return self.step_lease_s.get(Step(step), self.lease_s)

    def backoff_for(self, kind: str) -> tuple[float, float]:
        """(first, longest) retry delay for a kind of job: webhooks keep trying for hours."""
        if kind == Kind.WEBHOOK:
            return self.webhook_backoff_base_s, self.webhook_backoff_max_s
        return self.backoff_base_s, self.backoff_max_s

    @property
    def listen(self) -> str:
        """Where gunicorn binds."""
        if self.bind:
            return self.bind
        return f"0.0.0.0:{self.port}" if self.port else "127.0.0.1:8000"

    @classmethod
    def with_overrides(cls, overrides: dict[str, Any] | None = None) -> "Settings":
        """The environment, then explicit overrides by field name (tests, scripts)."""
        unknown = set(overrides or {}) - set(cls.model_fields)
        if unknown:
            raise KeyError(f"unknown setting(s) {', '.join(sorted(unknown))}")
        return load_settings(**(overrides or {}))


def load_settings(**overrides: Any) -> Settings:
    """Settings, or SettingsError naming each variable whose value is unusable."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            name = ".".join(str(part) for part in err["loc"]) or "settings"
            problems.append(f"{name}={err.get('input')!r}: {err['msg']}")
        raise SettingsError("invalid setting " + "; ".join(problems)) from None


# --- the generated documents ------------------------------------------------------------

def _shown(value: Any) -> str:
    if isinstance(value, Path):
        return value.as_posix() if value.is_absolute() else "./" + value.as_posix()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return "" if not value else str(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows() -> list[tuple[str, str, str, str]]:
    """(section, variable, default, meaning) for every setting, in declaration order."""
    rows = []
    for field in Settings.model_fields.values():
        extra = field.json_schema_extra
        section = extra.get("section", "") if isinstance(extra, dict) else ""
        rows.append((str(section), str(field.validation_alias), _shown(field.default),
                     field.description or ""))
    return rows


def env_example() -> str:
    """`.env.example`: comments on their own lines and no quotes, so Docker's --env-file and a
    .env loader read it alike. Every line is commented out: a copy changes nothing until a
    line is uncommented."""
    out = ["# Every setting the server reads, with its default. Generated from",
           "# server/settings.py by `python -m server settings --env-example`; do not edit.",
           "# Copy to .env (or pass to `docker run --env-file`) and uncomment what you change.",
           "# Comments stay on their own lines: Docker keeps anything after `=` as the value."]
    current = None
    for section, name, default, doc in _rows():
        if section != current:
            out += ["", f"# --- {section} " + "-" * max(3, 84 - len(section))]
            current = section
        out += [f"# {doc}", f"# {name}={default}"]
    return "\n".join(out) + "\n"


def markdown_table() -> str:
    """The README's settings table."""
    out = ["| variable | default | meaning |", "|---|---|---|"]
    for _section, name, default, doc in _rows():
        out.append(f"| `{name}` | {'`' + default + '`' if default else 'unset'} | {doc.replace('|', '/')} |")
    return "\n".join(out) + "\n"
