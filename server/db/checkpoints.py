"""The checkpoint store: what each step stored (`video_media`, `video_transcripts`,
`video_analyses`, `video_clip_searches`, `video_clips`, `audio_outputs`) and what the steps
learnt about a video (its title, duration, language and content type in `videos`). The
only module that issues their queries."""
from __future__ import annotations

from psycopg.types.json import Jsonb

from server.core.keys import Limits
from server.core.steps import Step
from server.core.stores import Row
from server.db import Database, Tx, keys

# Steps whose checkpoint an earlier submission of the same source can lend a new one.
_REUSE = {Step.DOWNLOAD: "reuse_media", Step.TRANSCRIBE: "reuse_transcript"}


class PgCheckpointWriter:
    """Checkpoint writes inside the transaction that advances the job (see PgJobs.advance)."""

    def __init__(self, tx: Tx):
        self.tx = tx

    def save_media(self, *, video_id: int, storage_key: str, bytes: int, sha256: str,
                   duration_s: float, width: int | None, height: int | None) -> None:
        self.tx.run("save_media", video_id=video_id, storage_key=storage_key, bytes=bytes,
                    sha256=sha256, duration_s=duration_s, width=width, height=height)

    def save_transcript(self, *, video_id: int, engine: str, model: str, language: str,
                        language_probability: float, duration_s: float, segments: list,
                        transcribe_seconds: float, languages: list | None = None,
                        speech_s: float | None = None, coverage: float | None = None,
                        audio_track: dict | None = None) -> None:
        self.tx.run("save_transcript", video_id=video_id, engine=engine, model=model,
                    language=language, language_probability=language_probability,
                    duration_s=duration_s, segments=Jsonb(segments),
                    transcribe_seconds=transcribe_seconds, languages=Jsonb(languages or []),
                    speech_s=speech_s, coverage=coverage,
                    audio_track=Jsonb(audio_track) if audio_track is not None else None)

    def save_analysis(self, *, video_id: int, analyzer: str, content_type: str, confidence: float,
                      rationale: str, topics: list, raw_output: dict, tokens_used: int,
                      cost_usd: float) -> None:
        self.tx.run("save_analysis", video_id=video_id, analyzer=analyzer,
                    content_type=content_type, confidence=confidence, rationale=rationale,
                    topics=Jsonb(topics), raw_output=Jsonb(raw_output), tokens_used=tokens_used,
                    cost_usd=cost_usd)

    def save_clip_search(self, *, video_id: int, analyzer: str, raw_output: dict,
                         tokens_used: int, cost_usd: float, notice: str | None = None) -> None:
        self.tx.run("save_clip_search", video_id=video_id, analyzer=analyzer,
                    raw_output=Jsonb(raw_output), tokens_used=tokens_used, cost_usd=cost_usd,
                    notice=notice)

    def save_clip(self, *, video_id: int, clip_index: int, start_s: float, end_s: float,
                  title: str, reason: str, hook: str, score: float) -> None:
        self.tx.run("save_clip", video_id=video_id, clip_index=clip_index, start_s=start_s,
                    end_s=end_s, title=title, reason=reason, hook=hook, score=score)

    def update_video_meta(self, *, video_id: int, title: str | None = None,
                          duration_s: float | None = None, language: str | None = None,
                          content_type: str | None = None,
                          content_confidence: float | None = None) -> None:
        self.tx.run("update_video_meta", video_id=video_id, title=title, duration_s=duration_s,
                    language=language, content_type=content_type,
                    content_confidence=content_confidence)

    def save_audio_output(self, *, job_id: int, storage_key: str, duration_s: float,
                          bytes: int) -> None:
        self.tx.run("save_audio_output", job_id=job_id, storage_key=storage_key,
                    duration_s=duration_s, bytes=bytes)

    def charge_source(self, *, key_id: int, video_id: int, defaults: Limits) -> None:
        media = self.tx.one("media_for_video", video_id=video_id)
        assert media is not None, "charge_source runs after the media checkpoint is written"
        keys.charge(self.tx, key_id=key_id, video_id=video_id, videos=0,
                    source_s=media["duration_s"], defaults=defaults)

    def save_clip_version(self, *, video_id: int, clip_index: int, start_s: float, end_s: float,
                          video_key: str, thumbnail_key: str | None, outputs: dict) -> None:
        self.tx.run("save_clip_version", video_id=video_id, clip_index=clip_index, start_s=start_s,
                    end_s=end_s, video_key=video_key, thumbnail_key=thumbnail_key,
                    outputs=Jsonb(outputs))

    def reuse(self, step: str, video_id: int) -> bool:
        query = _REUSE.get(Step(step))
        if query is None or self.tx.one(query, video_id=video_id) is None:
            return False
        self.tx.run("copy_video_meta", video_id=video_id)
        return True


class PgCheckpoints:
    def __init__(self, db: Database):
        self.db = db

    def writer(self, tx: Tx) -> PgCheckpointWriter:
        return PgCheckpointWriter(tx)

    def media(self, video_id: int) -> Row | None:
        return self.db.one("media_for_video", video_id=video_id)

    def transcript(self, video_id: int) -> Row | None:
        return self.db.one("transcript_for_video", video_id=video_id)

    def analysis(self, video_id: int) -> Row | None:
        return self.db.one("analysis_for_video", video_id=video_id)

    def clips(self, video_id: int) -> list[Row]:
        return self.clips_of_videos([video_id])[video_id]

    def clips_of_videos(self, video_ids: list[int]) -> dict[int, list[Row]]:
        out: dict[int, list[Row]] = {v: [] for v in video_ids}
        for row in self.db.all("clips_for_videos", video_ids=video_ids):
            out[row["video_id"]].append(row)
        return out

    def save_rendered_clip(self, *, video_id: int, clip_index: int, video_key: str,
                           thumbnail_key: str | None, outputs: dict, owner: str) -> bool:
        return self.db.one("save_rendered_clip", video_id=video_id, clip_index=clip_index,
                           video_key=video_key, thumbnail_key=thumbnail_key,
                           outputs=Jsonb(outputs), owner=owner) is not None
