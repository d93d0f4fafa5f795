-- What an operator reads in the Supabase dashboard: one row per job in `operator_jobs` (a
-- view the Table Editor lists beside the tables), and a comment on every table and column,
-- which the dashboard shows as their description.
--
-- The view runs with the privileges of whoever queries it (security_invoker), so it shows
-- nothing RLS would hide, and anon/authenticated get no grant on it: PostgREST serves none
-- of it. Safe to apply again.

create or replace view public.operator_jobs with (security_invoker = true) as
select coalesce(v.token, q.token)                as token,
       v.title,
       q.status,
       q.pipeline_step                           as step,
       round(q.progress::numeric, 2)             as progress,
       q.attempts,
       q.max_attempts,
       q.failure_cause                           as last_failure,
       q.failure_details                         as last_failure_details,
       date_trunc('second', now() - q.created_at) as age,
       r.worker_id                               as worker,
       q.lease_expires_at,
       q.run_after,
       q.priority,
       q.created_at,
       q.updated_at,
       q.kind
from public.video_processing_queue q
left join public.videos v on v.id = q.video_id
-- The attempt that holds the lease names the worker (step_runs.lease_owner is unique).
left join public.step_runs r on r.lease_owner = q.lease_owner and q.status = 'running';

do $$
declare r text;
begin
    foreach r in array array['anon', 'authenticated'] loop
        if exists (select 1 from pg_roles where rolname = r) then
            execute format('revoke all on public.operator_jobs from %I', r);
        end if;
    end loop;
end $$;

comment on view public.operator_jobs is
    'One row per job, for operators: where it is, how it went, who runs it. Not exposed through the API.';
comment on column public.operator_jobs.token is 'the public handle clients poll the status with';
comment on column public.operator_jobs.title is 'the video title (from the source or the uploaded file name)';
comment on column public.operator_jobs.status is 'queued, running, retrying, completed, failed or cancelled';
comment on column public.operator_jobs.step is 'the step the job is at (done once rendered)';
comment on column public.operator_jobs.progress is 'progress within the step, 0 to 1';
comment on column public.operator_jobs.attempts is 'attempts of the current step so far';
comment on column public.operator_jobs.max_attempts is 'attempts of one step before the job fails (attempts_exhausted)';
comment on column public.operator_jobs.last_failure is 'failure cause code of the last failed attempt (see the README table)';
comment on column public.operator_jobs.last_failure_details is 'the message behind last_failure';
comment on column public.operator_jobs.age is 'time since submission';
comment on column public.operator_jobs.worker is 'the worker running the step now (worker id: host and process)';
comment on column public.operator_jobs.lease_expires_at is 'when a running job may be rescued by another worker unless its worker renews the lease';
comment on column public.operator_jobs.run_after is 'earliest time the job is claimed again (the retry time when retrying)';
comment on column public.operator_jobs.priority is 'higher is claimed first, -100 to 100';
comment on column public.operator_jobs.created_at is 'when the job was submitted';
comment on column public.operator_jobs.updated_at is 'last change to the job row';

-- videos
comment on table public.videos is 'One row per submission: the source and what the pipeline learnt about it.';
comment on column public.videos.id is 'internal key; never shown to clients';
comment on column public.videos.token is 'public handle for the status API: 192 random bits, URL-safe';
comment on column public.videos.source_kind is 'url (downloaded) or upload';
comment on column public.videos.source_url is 'the submitted URL, for url sources';
comment on column public.videos.upload_key is 'storage key of an uploaded source';
comment on column public.videos.source_fingerprint is 'normalised URL or sha256 of the upload; a new submission with the same fingerprint reuses earlier downloads and transcripts';
comment on column public.videos.idempotency_key is 'the Idempotency-Key header of the submission, if any';
comment on column public.videos.title is 'title from the source, or the uploaded file name';
comment on column public.videos.duration_s is 'duration in seconds, once downloaded';
comment on column public.videos.language is 'main spoken language, once transcribed';
comment on column public.videos.content_type is 'podcast, lecture, tutorial, news, commentary or other, once classified';
comment on column public.videos.content_confidence is 'confidence of content_type, 0 to 1';
comment on column public.videos.options is 'render options chosen at submission (format, captions, enhance)';
comment on column public.videos.created_at is 'submission time';
comment on column public.videos.updated_at is 'last change';

-- video_processing_queue
comment on table public.video_processing_queue is 'The work queue: one row per video, claimed with FOR UPDATE SKIP LOCKED under a lease.';
comment on column public.video_processing_queue.id is 'internal key';
comment on column public.video_processing_queue.video_id is 'the video (videos.id)';
comment on column public.video_processing_queue.pipeline_step is 'the step to run next: download, transcribe, classify, find_clips, render, or done';
comment on column public.video_processing_queue.status is 'queued, running, retrying, completed, failed or cancelled';
comment on column public.video_processing_queue.priority is 'higher is claimed first, -100 to 100';
comment on column public.video_processing_queue.attempts is 'attempts of the current step; resets when the step advances';
comment on column public.video_processing_queue.max_attempts is 'attempts of one step before the job fails';
comment on column public.video_processing_queue.run_after is 'not claimed before this time (retry backoff)';
comment on column public.video_processing_queue.lease_owner is 'lease id of the attempt running the step (step_runs.lease_owner); set only while running';
comment on column public.video_processing_queue.lease_expires_at is 'lease end; a worker heartbeat extends it, and an expired lease lets another worker rescue the job';
comment on column public.video_processing_queue.progress is 'progress within the current step, 0 to 1';
comment on column public.video_processing_queue.failure_cause is 'machine code of the last failure (README: Failure causes)';
comment on column public.video_processing_queue.failure_details is 'human message of the last failure';
comment on column public.video_processing_queue.created_at is 'when the job was queued';
comment on column public.video_processing_queue.updated_at is 'last change (claim, heartbeat, progress, advance)';
comment on column public.video_processing_queue.finished_at is 'when the job completed, failed or was cancelled';

-- checkpoints
comment on table public.video_media is 'Checkpoint of the download step: the stored source.';
comment on column public.video_media.video_id is 'the video (videos.id)';
comment on column public.video_media.storage_key is 'key of the source in media storage';
comment on column public.video_media.bytes is 'size of the source';
comment on column public.video_media.sha256 is 'SHA-256 of the source';
comment on column public.video_media.duration_s is 'duration in seconds';
comment on column public.video_media.width is 'video width in pixels (null for audio)';
comment on column public.video_media.height is 'video height in pixels (null for audio)';
comment on column public.video_media.created_at is 'when the step stored it';

comment on table public.video_transcripts is 'Checkpoint of the transcribe step: segments with word timings.';
comment on column public.video_transcripts.video_id is 'the video (videos.id)';
comment on column public.video_transcripts.engine is 'faster-whisper or openai-whisper';
comment on column public.video_transcripts.model is 'Whisper model name or path';
comment on column public.video_transcripts.language is 'main language detected (or forced)';
comment on column public.video_transcripts.language_probability is 'confidence of the language detection, 0 to 1';
comment on column public.video_transcripts.duration_s is 'duration of the transcribed audio, seconds';
comment on column public.video_transcripts.segments is 'segments [{start, end, text, words: [{start, end, word, probability}]}]';
comment on column public.video_transcripts.transcribe_seconds is 'wall time the transcription took';
comment on column public.video_transcripts.created_at is 'when the step stored it';

comment on table public.video_analyses is 'Checkpoint of the classify step: the content type.';
comment on column public.video_analyses.video_id is 'the video (videos.id)';
comment on column public.video_analyses.analyzer is 'offline or the OpenAI model used';
comment on column public.video_analyses.content_type is 'podcast, lecture, tutorial, news, commentary or other';
comment on column public.video_analyses.confidence is 'confidence, 0 to 1';
comment on column public.video_analyses.rationale is 'why, in words';
comment on column public.video_analyses.topics is 'topics found';
comment on column public.video_analyses.raw_output is 'the analyzer''s raw answer, for debugging';
comment on column public.video_analyses.tokens_used is 'LLM tokens spent (0 offline)';
comment on column public.video_analyses.cost_usd is 'estimated LLM cost in US dollars';
comment on column public.video_analyses.created_at is 'when the step stored it';

comment on table public.video_clip_searches is 'Checkpoint of the find_clips step: how the clips were found.';
comment on column public.video_clip_searches.video_id is 'the video (videos.id)';
comment on column public.video_clip_searches.analyzer is 'offline or the OpenAI model used';
comment on column public.video_clip_searches.raw_output is 'the analyzer''s raw answer, for debugging';
comment on column public.video_clip_searches.tokens_used is 'LLM tokens spent (0 offline)';
comment on column public.video_clip_searches.cost_usd is 'estimated LLM cost in US dollars';
comment on column public.video_clip_searches.created_at is 'when the step stored it';

comment on table public.video_clips is 'The clips found for a video; render fills in their files clip by clip.';
comment on column public.video_clips.video_id is 'the video (videos.id)';
comment on column public.video_clips.clip_index is 'position of the clip, from 0';
comment on column public.video_clips.start_s is 'start in the source, seconds (a word boundary)';
comment on column public.video_clips.end_s is 'end in the source, seconds (a word boundary)';
comment on column public.video_clips.title is 'headline';
comment on column public.video_clips.reason is 'why this passage makes a clip';
comment on column public.video_clips.hook is 'the opening line';
comment on column public.video_clips.score is 'how good a clip it is, 0 to 100';
comment on column public.video_clips.video_key is 'storage key of the rendered mp4, once rendered';
comment on column public.video_clips.thumbnail_key is 'storage key of the JPEG thumbnail, once rendered';
comment on column public.video_clips.rendered_at is 'when this clip was rendered';
comment on column public.video_clips.outputs is 'sidecar keys (srt, vtt, manifest) and how it was rendered (method, format)';

-- history, caps, uploads, migrations
comment on table public.step_runs is 'One row per attempt at a step: who ran it, for how long, and how it ended.';
comment on column public.step_runs.id is 'internal key';
comment on column public.step_runs.video_id is 'the video (videos.id)';
comment on column public.step_runs.step is 'the step attempted';
comment on column public.step_runs.attempt is 'attempt number of that step';
comment on column public.step_runs.worker_id is 'the worker that ran it (host and process)';
comment on column public.step_runs.lease_owner is 'the lease id the attempt held';
comment on column public.step_runs.started_at is 'claim time';
comment on column public.step_runs.finished_at is 'end time; null while running, or if the worker died';
comment on column public.step_runs.outcome is 'succeeded, retrying, failed, lease_lost, cancelled, released or reused';
comment on column public.step_runs.failure_cause is 'failure cause code, when it failed';
comment on column public.step_runs.details is 'failure message, when it failed';

comment on table public.step_limits is 'Cluster-wide caps: at most max_running jobs of a step hold a lease at once (python -m server step-limit).';
comment on column public.step_limits.step is 'the capped step';
comment on column public.step_limits.max_running is 'most jobs of this step running at once, across every worker';
comment on column public.step_limits.updated_at is 'when the cap was set';

comment on table public.uploads is 'Resumable uploads: a file sent in chunks, becoming a job once complete.';
comment on column public.uploads.id is 'random upload id, the capability to write to it';
comment on column public.uploads.filename is 'the client''s file name';
comment on column public.uploads.size_bytes is 'announced size';
comment on column public.uploads.status is 'open, completing or completed';
comment on column public.uploads.token is 'the job''s token, once completed';
comment on column public.uploads.created_at is 'when the upload was opened';
comment on column public.uploads.updated_at is 'last chunk or state change';

comment on table public.upload_chunks is 'Byte ranges received for an upload; the same chunk sent twice adds nothing.';
comment on column public.upload_chunks.upload_id is 'the upload (uploads.id)';
comment on column public.upload_chunks.start_byte is 'first byte of the range';
comment on column public.upload_chunks.end_byte is 'last byte of the range (inclusive)';

-- The server's own migration ledger exists only where the server applied the migrations
-- (the Supabase CLI keeps its own in supabase_migrations).
do $$
begin
    if to_regclass('public.server_migrations') is not null then
        comment on table public.server_migrations is 'Migrations the server applied (python -m server migrate, or at start).';
        comment on column public.server_migrations.version is 'migration file name without .sql';
        comment on column public.server_migrations.applied_at is 'when it was applied';
    end if;
end $$;
