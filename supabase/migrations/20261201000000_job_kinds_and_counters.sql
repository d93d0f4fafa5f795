-- One job system for every kind of work, and counters that never go down.
--
-- 1. Kinds. `video_processing_queue` keeps its name (the dashboard, pg_cron and the docs
--    name it) and now holds every kind of job: a row's `kind` says which, `pipeline_step`
--    is one of that kind's steps (server/core/steps.py), `payload` carries the kind's
--    arguments, and `token` is the handle a client follows for kinds without a video.
--    A video's job keeps its one row per video; other kinds may refer to a video many
--    times (a clip re-render, a webhook delivery), so the uniqueness becomes partial.
-- 2. The attempt history points at its job (`job_id`), so kinds without a video have one.
-- 3. Counters. Metrics `_total` counters used to count `step_runs` rows, which retention
--    deletes. A trigger now adds every finished attempt to running totals, whatever query
--    finished it (the claim's rescue included), and the totals are never pruned.

alter table public.video_processing_queue add column if not exists kind text not null default 'video';
alter table public.video_processing_queue add column if not exists token text;
alter table public.video_processing_queue add column if not exists payload jsonb not null default '{}'::jsonb;
alter table public.video_processing_queue alter column video_id drop not null;
alter table public.video_processing_queue drop constraint if exists video_processing_queue_video_id_key;
create unique index if not exists video_processing_queue_one_per_video
    on public.video_processing_queue (video_id) where kind = 'video';
create unique index if not exists video_processing_queue_token_idx
    on public.video_processing_queue (token) where token is not null;

alter table public.video_processing_queue drop constraint if exists video_processing_queue_kind_check;
alter table public.video_processing_queue add constraint video_processing_queue_kind_check
    check (kind in ('video', 'audio_enhance'));
-- Every job has a handle its client can follow: its video's token, or its own.
alter table public.video_processing_queue drop constraint if exists video_processing_queue_handle_check;
alter table public.video_processing_queue add constraint video_processing_queue_handle_check
    check (case kind when 'video' then video_id is not null and token is null
                     when 'audio_enhance' then video_id is null and token is not null
                     else true end);

-- The step lists widen together (server/core/steps.py; tests/integration/test_contracts.py).
alter table public.video_processing_queue drop constraint if exists video_processing_queue_pipeline_step_check;
alter table public.video_processing_queue add constraint video_processing_queue_pipeline_step_check
    check (pipeline_step in ('download', 'transcribe', 'classify', 'find_clips', 'render',
                             'enhance_audio', 'done'));
alter table public.step_runs drop constraint if exists step_runs_step_check;
alter table public.step_runs add constraint step_runs_step_check
    check (step in ('download', 'transcribe', 'classify', 'find_clips', 'render', 'enhance_audio'));
alter table public.step_limits drop constraint if exists step_limits_step_check;
alter table public.step_limits add constraint step_limits_step_check
    check (step in ('download', 'transcribe', 'classify', 'find_clips', 'render', 'enhance_audio'));

alter table public.step_runs add column if not exists job_id bigint
    references public.video_processing_queue (id) on delete cascade;
alter table public.step_runs alter column video_id drop not null;
update public.step_runs r set job_id = q.id
from public.video_processing_queue q where q.video_id = r.video_id and r.job_id is null;
create index if not exists step_runs_job_idx on public.step_runs (job_id, id);

-- The checkpoint of the enhance_audio step: where the cleaned audio is stored.
create table if not exists public.audio_outputs (
    job_id      bigint primary key references public.video_processing_queue (id) on delete cascade,
    storage_key text not null,
    duration_s  double precision not null,
    bytes       bigint not null,
    created_at  timestamptz not null default now()
);

-- Running totals of finished attempts, by step, outcome and cause ('' when none).
create table if not exists public.step_outcome_totals (
    step           text not null,
    outcome        text not null,
    failure_cause  text not null default '',
    n              bigint not null default 0,
    primary key (step, outcome, failure_cause)
);
-- Successful attempts' durations as a cumulative histogram: `n` attempts of `step` took at
-- most `le` seconds; every step has a row per bound. The bounds are the rows of
-- step_duration_bounds, fixed here once (changing them would break the counters' history).
create table if not exists public.step_duration_bounds (le double precision primary key);
insert into public.step_duration_bounds (le)
select unnest(array[0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 'infinity'::float8])
on conflict do nothing;
create table if not exists public.step_duration_totals (
    step     text not null,
    le       double precision not null,
    n        bigint not null default 0,
    seconds  double precision not null default 0,   -- the sum, kept on the +Inf row
    primary key (step, le)
);

create or replace function public.count_finished_step_run() returns trigger
language plpgsql as $$
declare took double precision;
begin
    if new.finished_at is null or old.finished_at is not null then
        return new;
    end if;
    insert into public.step_outcome_totals as t (step, outcome, failure_cause, n)
    values (new.step, coalesce(new.outcome, 'unknown'), coalesce(new.failure_cause, ''), 1)
    on conflict (step, outcome, failure_cause) do update set n = t.n + 1;
    if new.outcome = 'succeeded' then
        took := extract(epoch from new.finished_at - new.started_at);
        insert into public.step_duration_totals as t (step, le, n, seconds)
        select new.step, b.le, (took <= b.le)::int, case when b.le = 'infinity' then took else 0 end
        from public.step_duration_bounds b
        on conflict (step, le) do update set n = t.n + excluded.n, seconds = t.seconds + excluded.seconds;
    end if;
    return new;
end $$;

drop trigger if exists step_runs_count_finished on public.step_runs;
create trigger step_runs_count_finished after update of finished_at on public.step_runs
    for each row execute function public.count_finished_step_run();

-- Attempts finished before this migration start the totals, once.
do $$
begin
    if not exists (select 1 from public.step_outcome_totals) then
        insert into public.step_outcome_totals (step, outcome, failure_cause, n)
        select step, coalesce(outcome, 'unknown'), coalesce(failure_cause, ''), count(*)
        from public.step_runs where finished_at is not null group by 1, 2, 3;
        insert into public.step_duration_totals (step, le, n, seconds)
        select r.step, b.le,
               count(*) filter (where extract(epoch from r.finished_at - r.started_at) <= b.le),
               case when b.le = 'infinity' then sum(extract(epoch from r.finished_at - r.started_at)) else 0 end
        from public.step_runs r cross join public.step_duration_bounds b
        where r.outcome = 'succeeded' group by r.step, b.le;
    end if;
end $$;

alter table public.audio_outputs        enable row level security;
alter table public.step_outcome_totals  enable row level security;
alter table public.step_duration_bounds enable row level security;
alter table public.step_duration_totals enable row level security;

do $$
declare r text;
begin
    foreach r in array array['anon', 'authenticated'] loop
        if exists (select 1 from pg_roles where rolname = r) then
            execute format('revoke all on public.audio_outputs, public.step_outcome_totals,
                public.step_duration_bounds, public.step_duration_totals from %I', r);
        end if;
    end loop;
end $$;
