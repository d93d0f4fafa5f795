"""Configuration from the environment. `.env.example` lists every variable."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

STEPS = ("download", "transcribe", "classify", "find_clips", "render")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Config:
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR", "./data")).resolve())
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", ""))
    # Supabase's transaction pooler (port 6543) cannot keep prepared statements.
    db_transaction_pooler: bool = field(default_factory=lambda: _bool("DB_TRANSACTION_POOLER", False))
    db_pool_size: int = field(default_factory=lambda: int(_env("DB_POOL_SIZE", "8")))
    internal_api_token: str = field(default_factory=lambda: _env("INTERNAL_API_TOKEN", ""))
    public_base_url: str = field(default_factory=lambda: _env("PUBLIC_BASE_URL", ""))

    # Limits
    max_upload_bytes: int = field(default_factory=lambda: int(_env("MAX_UPLOAD_BYTES", str(2 << 30))))
    max_download_bytes: int = field(default_factory=lambda: int(_env("MAX_DOWNLOAD_BYTES", str(4 << 30))))
    max_duration_s: float = field(default_factory=lambda: float(_env("MAX_DURATION_S", str(4 * 3600))))
    allow_private_urls: bool = field(default_factory=lambda: _bool("ALLOW_PRIVATE_URLS", False))
    # Bodies of requests other than uploads (JSON submissions, cancels).
    max_request_bytes: int = field(default_factory=lambda: int(_env("MAX_REQUEST_BYTES", "65536")))
    # Requests per minute per client address (0 = unlimited), per web process.
    rate_limit_submit_per_min: float = field(default_factory=lambda: float(_env("RATE_LIMIT_SUBMIT_PER_MIN", "10")))
    rate_limit_status_per_min: float = field(default_factory=lambda: float(_env("RATE_LIMIT_STATUS_PER_MIN", "120")))
    # Reverse proxies in front of the server whose X-Forwarded-For entries are trusted.
    trusted_proxy_count: int = field(default_factory=lambda: int(_env("TRUSTED_PROXY_COUNT", "0")))
    cors_origins: str = field(default_factory=lambda: _env("CORS_ORIGINS", ""))

    # Queue
    max_attempts: int = field(default_factory=lambda: int(_env("MAX_ATTEMPTS", "5")))
    lease_s: float = field(default_factory=lambda: float(_env("LEASE_SECONDS", "60")))
    # LEASE_SECONDS_<STEP> overrides LEASE_SECONDS for one step (e.g. a long transcription).
    step_lease_s: dict[str, float] = field(default_factory=lambda: {
        s: float(os.environ[f"LEASE_SECONDS_{s.upper()}"]) for s in STEPS
        if os.environ.get(f"LEASE_SECONDS_{s.upper()}")})
    backoff_base_s: float = field(default_factory=lambda: float(_env("BACKOFF_BASE_SECONDS", "10")))
    backoff_max_s: float = field(default_factory=lambda: float(_env("BACKOFF_MAX_SECONDS", "900")))
    worker_steps: tuple[str, ...] = field(
        default_factory=lambda: tuple(s for s in _env("WORKER_STEPS", ",".join(STEPS)).split(",") if s))
    worker_concurrency: int = field(default_factory=lambda: int(_env("WORKER_CONCURRENCY", "2")))
    step_runs_retention_days: float = field(
        default_factory=lambda: float(_env("STEP_RUNS_RETENTION_DAYS", "30")))
    poll_interval_s: float = field(default_factory=lambda: float(_env("WORKER_POLL_SECONDS", "1")))
    # How many jobs one POST /internal/perform-video-processing may start in this process.
    internal_concurrency: int = field(default_factory=lambda: int(_env("INTERNAL_CONCURRENCY", "2")))

    # Transcription
    whisper_engine: str = field(default_factory=lambda: _env("WHISPER_ENGINE", "faster-whisper"))
    whisper_model: str = field(default_factory=lambda: _env("WHISPER_MODEL", "base"))
    whisper_device: str = field(default_factory=lambda: _env("WHISPER_DEVICE", "auto"))
    whisper_compute_type: str = field(default_factory=lambda: _env("WHISPER_COMPUTE_TYPE", "auto"))
    whisper_threads: int = field(default_factory=lambda: int(_env("WHISPER_THREADS", "0")))
    whisper_beam_size: int = field(default_factory=lambda: int(_env("WHISPER_BEAM_SIZE", "1")))
    whisper_batch_size: int = field(default_factory=lambda: int(_env("WHISPER_BATCH_SIZE", "0")))
    whisper_language: str = field(default_factory=lambda: _env("WHISPER_LANGUAGE", ""))

    # Analysis
    openai_api_key: str = field(default_factory=lambda: _env("OPENAI_API_KEY", ""))
    openai_base_url: str = field(default_factory=lambda: _env("OPENAI_BASE_URL", ""))
    openai_model: str = field(default_factory=lambda: _env("OPENAI_MODEL", "gpt-4o"))
    openai_timeout_s: float = field(default_factory=lambda: float(_env("OPENAI_TIMEOUT_SECONDS", "60")))
    # Retries inside one step (429, 5xx, timeouts); after them the job itself retries later.
    openai_retries: int = field(default_factory=lambda: int(_env("OPENAI_RETRIES", "2")))
    # A Retry-After longer than this is waited out by the queue, not by a sleeping worker.
    openai_max_wait_s: float = field(default_factory=lambda: float(_env("OPENAI_MAX_WAIT_SECONDS", "20")))
    clip_min_s: float = field(default_factory=lambda: float(_env("CLIP_MIN_SECONDS", "15")))
    clip_max_s: float = field(default_factory=lambda: float(_env("CLIP_MAX_SECONDS", "90")))
    clip_max_count: int = field(default_factory=lambda: int(_env("CLIP_MAX_COUNT", "10")))

    # Rendering: defaults for the per-request options (landscape, vertical or square)
    clip_format: str = field(default_factory=lambda: _env("CLIP_FORMAT", "landscape"))
    clip_captions: bool = field(default_factory=lambda: _bool("CLIP_CAPTIONS", True))
    clip_enhance: bool = field(default_factory=lambda: _bool("CLIP_ENHANCE", False))
    render_threads: int = field(default_factory=lambda: int(_env("RENDER_THREADS", "0")))
    max_audio_enhance_bytes: int = field(default_factory=lambda: int(_env("MAX_AUDIO_ENHANCE_BYTES", str(200 << 20))))

    # Storage
    storage_backend: str = field(default_factory=lambda: _env("STORAGE_BACKEND", "local"))
    supabase_url: str = field(default_factory=lambda: _env("SUPABASE_URL", ""))
    supabase_service_key: str = field(default_factory=lambda: _env("SUPABASE_SERVICE_ROLE_KEY", ""))
    supabase_bucket: str = field(default_factory=lambda: _env("SUPABASE_BUCKET", "media"))
    supabase_signed_url_s: int = field(default_factory=lambda: int(_env("SUPABASE_SIGNED_URL_SECONDS", "3600")))
    # Remote media is cached on local disk for ffmpeg and Whisper; least recently used goes first.
    storage_cache_max_bytes: int = field(default_factory=lambda: int(_env("STORAGE_CACHE_MAX_BYTES", str(20 << 30))))

    # Web
    gunicorn_workers: int = field(default_factory=lambda: int(_env("GUNICORN_WORKERS", "2")))
    gunicorn_threads: int = field(default_factory=lambda: int(_env("GUNICORN_THREADS", "4")))
    bind: str = field(default_factory=lambda: _env("BIND", "127.0.0.1:8000"))

    def lease_for(self, step: str) -> float:
        return self.step_lease_s.get(step, self.lease_s)

    @classmethod
    def from_mapping(cls, overrides: dict | None = None) -> "Config":
        """Environment first, then explicit overrides (lower-case field names)."""
        cfg = cls()
        names = {f.name for f in fields(cls)}
        for key, value in (overrides or {}).items():
            key = key.lower()
            if key not in names:
                raise KeyError(f"unknown setting {key!r}")
            setattr(cfg, key, Path(value) if key == "data_dir" else value)
        return cfg
