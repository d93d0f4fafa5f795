-- A clip rendered again: a job of kind `clip_render` with one step, `render_clip`.
--
-- A person moves a clip's start or end, or changes its format or captions, and only that
-- clip is rendered again from the stored source and transcript (no download, no
-- transcription, no clip finding). The job refers to its video (`video_id`) and has its
-- own handle (`token`); `payload` holds the clip's index, the new start and end, and the
-- render options. The new version replaces the clip in `video_clips` when the job
-- completes; the video's own job row is never touched, so its status stays true.

alter table public.video_processing_queue drop constraint if exists video_processing_queue_kind_check;
alter table public.video_processing_queue add constraint video_processing_queue_kind_check
    check (kind in ('video', 'audio_enhance', 'webhook', 'clip_render'));
alter table public.video_processing_queue drop constraint if exists video_processing_queue_handle_check;
alter table public.video_processing_queue add constraint video_processing_queue_handle_check
    check (case kind when 'video' then video_id is not null and token is null
                     when 'audio_enhance' then video_id is null and token is not null
                     when 'webhook' then video_id is null and token is not null
                     when 'clip_render' then video_id is not null and token is not null
                     else true end);

-- The step lists widen together (server/core/steps.py; tests/integration/test_contracts.py).
alter table public.video_processing_queue drop constraint if exists video_processing_queue_pipeline_step_check;
alter table public.video_processing_queue add constraint video_processing_queue_pipeline_step_check
    check (pipeline_step in ('download', 'transcribe', 'classify', 'find_clips', 'render',
                             'enhance_audio', 'deliver_webhook', 'render_clip', 'done'));
alter table public.step_runs drop constraint if exists step_runs_step_check;
alter table public.step_runs add constraint step_runs_step_check
    check (step in ('download', 'transcribe', 'classify', 'find_clips', 'render', 'enhance_audio',
                    'deliver_webhook', 'render_clip'));
alter table public.step_limits drop constraint if exists step_limits_step_check;
alter table public.step_limits add constraint step_limits_step_check
    check (step in ('download', 'transcribe', 'classify', 'find_clips', 'render', 'enhance_audio',
                    'deliver_webhook', 'render_clip'));

-- A video's re-renders, for its status.
create index if not exists video_processing_queue_clip_renders
    on public.video_processing_queue (video_id, id) where kind = 'clip_render';
-- At most one live re-render per clip: a second request while one waits or runs is refused
-- (409) instead of racing the first to replace the clip.
create unique index if not exists video_processing_queue_one_live_render
    on public.video_processing_queue (video_id, ((payload ->> 'clip_index')))
    where kind = 'clip_render' and status in ('queued', 'running', 'retrying');

-- What the dashboard says about the new kind (server/core/steps.py).
comment on column public.video_processing_queue.kind is
    'what kind of work the row is: video (download to render), audio_enhance (one step), webhook (one event to deliver) or clip_render (one clip of a completed video rendered again); server/core/steps.py';
comment on column public.video_processing_queue.token is
    'the handle of jobs that have their own: an audio_enhance or clip_render job''s token, a webhook job''s msg_id; null for videos';
comment on column public.video_processing_queue.payload is
    'the arguments of kinds that need them (jsonb); clip_render: clip_index, start_s, end_s, options';
comment on column public.operator_jobs.kind is
    'what kind of work: video (the whole pipeline), audio_enhance, webhook (one event to deliver), or clip_render (one clip rendered again; token is its video''s)';
comment on column public.videos.options is
    'what the submitter chose (format, captions, caption_style, enhance; min_clip_s, max_clip_s, max_clips, topic, language when set)';
