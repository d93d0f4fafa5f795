"""Builds the adapters the configuration asks for. Swapping an adapter is a config change.

Adapters are cheap to construct; the heavy parts (Whisper, the embedding model) load
lazily inside them, once per process, behind their own locks."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from server.settings import Settings
from server.db import Database


@dataclass
class Services:
    cfg: Settings
    db: Database

    @cached_property
    def storage(self):
        if self.cfg.storage_backend == "supabase":
            from server.adapters.storage_supabase import SupabaseStorage
            return SupabaseStorage(self.cfg.supabase_url, self.cfg.supabase_service_key,
                                   self.cfg.supabase_bucket, self.cfg.data_dir / "cache",
                                   signed_url_s=self.cfg.supabase_signed_url_s,
                                   cache_max_bytes=self.cfg.storage_cache_max_bytes)
        from server.adapters.storage_local import LocalStorage
        return LocalStorage(self.cfg.data_dir / "media")

    @cached_property
    def downloader(self):
        from server.adapters.downloader_ytdlp import YtDlpDownloader
        from server.core.urls import is_public_address
        policy = None if self.cfg.allow_private_urls else is_public_address
        return YtDlpDownloader(self.cfg.max_download_bytes, self.cfg.max_duration_s,
                               address_policy=policy)

    @cached_property
    def transcriber(self):
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
    def analyzer(self):
        if self.cfg.openai_api_key:
            from server.adapters.analyzer_openai import OpenAIAnalyzer
            return OpenAIAnalyzer(self.cfg)
        from server.adapters.analyzer_offline import OfflineAnalyzer
        return OfflineAnalyzer()

    @cached_property
    def renderer(self):
        from server.adapters.renderer_ffmpeg import FfmpegRenderer
        return FfmpegRenderer(self.cfg.render_threads)
