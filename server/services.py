"""What the use cases run against: the settings, the stores and the adapters the
configuration asks for. Swapping an adapter is a config change; unit tests swap in
in-memory fakes (tests/support/fakes.py) by passing them or assigning the attributes.

Each property returns its port's type, so mypy checks every adapter against its port.
Adapters are cheap to construct; the heavy parts (Whisper, the embedding model) load
lazily inside them, once per process, behind their own locks."""
from __future__ import annotations

from functools import cached_property

from server.core.keys import Limits
from server.core.ports import (Analyzer, Downloader, Prober, Renderer, Storage, Transcriber,
                               WebhookSender)
from server.core.stores import Checkpoints, Counters, Jobs, Keys, Uploads, Videos, Webhooks
from server.db import Database
from server.settings import Settings


class Services:
    def __init__(self, cfg: Settings, db: Database | None = None, *, jobs: Jobs | None = None,
                 videos: Videos | None = None, checkpoints: Checkpoints | None = None,
                 uploads: Uploads | None = None, counters: Counters | None = None,
                 keys: Keys | None = None, webhooks: Webhooks | None = None):
        """With a database, the Postgres stores; without one, every store must be given."""
        self.cfg = cfg
        self.db = db
        if db is not None:
            from server.db.checkpoints import PgCheckpoints
            from server.db.jobs import PgJobs
            from server.db.keys import PgKeys
            from server.db.uploads import PgUploads
            from server.db.videos import PgVideos
            from server.db.webhooks import PgWebhooks
            pg_checkpoints = PgCheckpoints(db)
            pg_jobs = PgJobs(db, pg_checkpoints.writer)
            jobs, counters = jobs or pg_jobs, counters or pg_jobs
            videos, uploads = videos or PgVideos(db), uploads or PgUploads(db)
            checkpoints = checkpoints or pg_checkpoints
            keys, webhooks = keys or PgKeys(db), webhooks or PgWebhooks(db)
        assert jobs and videos and checkpoints and uploads and counters and keys and webhooks, \
            "a store is missing"
        self.jobs: Jobs = jobs
        self.videos: Videos = videos
        self.checkpoints: Checkpoints = checkpoints
        self.uploads: Uploads = uploads
        self.counters: Counters = counters
        self.keys: Keys = keys
        self.webhooks: Webhooks = webhooks

    @property
    def key_defaults(self) -> Limits:
        """The limits of a key that names none of its own."""
        c = self.cfg
        return Limits(c.api_key_rate_per_min, c.api_key_videos_per_day, c.api_key_source_minutes_per_day)

    @cached_property
    def storage(self) -> Storage:
        if self.cfg.storage_backend == "supabase":
            from server.adapters.storage_supabase import SupabaseStorage
            return SupabaseStorage(self.cfg.supabase_url, self.cfg.supabase_service_key,
                                   self.cfg.supabase_bucket, self.cfg.data_dir / "cache",
                                   signed_url_s=self.cfg.supabase_signed_url_s,
                                   cache_max_bytes=self.cfg.storage_cache_max_bytes)
        from server.adapters.storage_local import LocalStorage
        return LocalStorage(self.cfg.data_dir / "media")

    @cached_property
    def downloader(self) -> Downloader:
        from server.adapters.downloader_ytdlp import YtDlpDownloader
        from server.core.urls import is_public_address
        policy = None if self.cfg.allow_private_urls else is_public_address
        return YtDlpDownloader(self.cfg.max_download_bytes, self.cfg.max_duration_s,
                               address_policy=policy)

    @cached_property
    def transcriber(self) -> Transcriber:
        c = self.cfg
        if c.whisper_engine == "openai-whisper":
            from server.adapters.transcriber_openai_whisper import OpenAIWhisperTranscriber
            return OpenAIWhisperTranscriber(c.whisper_model, c.data_dir, device=c.whisper_device,
                                            language=c.whisper_language or None)
        from server.adapters.transcriber_faster_whisper import FasterWhisperTranscriber
        return FasterWhisperTranscriber(c.whisper_model, c.data_dir, device=c.whisper_device,
                                        compute_type=c.whisper_compute_type,
                                        threads=c.whisper_threads, beam_size=c.whisper_beam_size,
                                        language=c.whisper_language, batch_size=c.whisper_batch_size)

    @cached_property
    def analyzer(self) -> Analyzer:
        if self.cfg.openai_api_key:
            from server.adapters.analyzer_openai import OpenAIAnalyzer
            return OpenAIAnalyzer(self.cfg)
        from server.adapters.analyzer_offline import OfflineAnalyzer
        return OfflineAnalyzer()

    @cached_property
    def renderer(self) -> Renderer:
        from server.adapters.renderer_ffmpeg import FfmpegRenderer
        return FfmpegRenderer(self.cfg.render_threads)

    @cached_property
    def webhook_sender(self) -> WebhookSender:
        from server.adapters.webhook_http import HttpWebhookSender
        from server.core.urls import is_public_address
        policy = None if self.cfg.allow_private_urls else is_public_address
        return HttpWebhookSender(self.cfg.webhook_timeout_s, policy)

    @cached_property
    def prober(self) -> Prober:
        from server.adapters import media_probe
        return media_probe

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
