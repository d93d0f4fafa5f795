-- The job-kind and counter tables explain themselves in the dashboard like the others, and
-- the operator view's columns for every kind of job.

comment on column public.operator_jobs.kind is 'what kind of work: video (the whole pipeline) or audio_enhance';
comment on column public.operator_jobs.created_at is 'when the job was queued';

comment on column public.video_processing_queue.kind is
    'what kind of work the row is: video (download to render) or audio_enhance (one step); server/core/steps.py';
comment on column public.video_processing_queue.token is
    'the handle a client follows for jobs without a video (audio_enhance); null for videos, whose token is in videos';
comment on column public.video_processing_queue.payload is 'the arguments of kinds that need them (jsonb)';
comment on column public.step_runs.job_id is 'the queue row this attempt ran';

comment on table public.audio_outputs is 'checkpoint of the enhance_audio step: where the cleaned audio is stored';
comment on column public.audio_outputs.job_id is 'the audio_enhance job';
comment on column public.audio_outputs.storage_key is 'storage key of the enhanced WAV';
comment on column public.audio_outputs.duration_s is 'length of the audio in seconds';
comment on column public.audio_outputs.bytes is 'size of the enhanced WAV';
comment on column public.audio_outputs.created_at is 'when the step finished';

comment on table public.step_outcome_totals is
    'running totals of finished attempts for /metrics; never pruned, so counters never go down';
comment on column public.step_outcome_totals.step is 'the step attempted';
comment on column public.step_outcome_totals.outcome is 'succeeded, retrying, failed, lease_lost, cancelled, released or reused';
comment on column public.step_outcome_totals.failure_cause is 'the failure cause, or empty when none';
comment on column public.step_outcome_totals.n is 'attempts so far';

comment on table public.step_duration_bounds is 'the bucket bounds (seconds) of the step duration histogram, fixed once';
comment on column public.step_duration_bounds.le is 'a bucket''s upper bound in seconds';

comment on table public.step_duration_totals is
    'cumulative histogram of successful attempts'' durations for /metrics; never pruned';
comment on column public.step_duration_totals.step is 'the step';
comment on column public.step_duration_totals.le is 'the bucket''s upper bound in seconds';
comment on column public.step_duration_totals.n is 'successful attempts that took at most le seconds';
comment on column public.step_duration_totals.seconds is 'the sum of their durations (kept on the infinity row)';
