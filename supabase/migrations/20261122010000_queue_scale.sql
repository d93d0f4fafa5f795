-- Queue at scale: cluster-wide per-step caps, autovacuum tuned for a hot queue table, and
-- an index that lets workers prune the attempt history cheaply.

-- At most max_running jobs of a step hold a live lease at once, across every worker.
-- A claim locks the step's row first, so concurrent claimers of a capped step queue up
-- behind each other instead of both seeing a free slot.
create table if not exists public.step_limits (
    step         text primary key
                 check (step in ('download', 'transcribe', 'classify', 'find_clips', 'render')),
    max_running  integer not null check (max_running > 0),
    updated_at   timestamptz not null default now()
);
alter table public.step_limits enable row level security;

-- Every claim, heartbeat and advance rewrites a queue row: vacuum and analyse it after a
-- small fraction of changes, without throttling, and leave room for HOT updates.
alter table public.video_processing_queue set (
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 200,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0,
    fillfactor = 80
);
alter table public.step_runs set (
    autovacuum_vacuum_scale_factor = 0.05,
    autovacuum_analyze_scale_factor = 0.05
);

-- Retention: workers delete finished attempts older than STEP_RUNS_RETENTION_DAYS.
create index if not exists step_runs_finished_idx on public.step_runs (finished_at)
    where finished_at is not null;

do $$
declare r text;
begin
    foreach r in array array['anon', 'authenticated'] loop
        if exists (select 1 from pg_roles where rolname = r) then
            execute format('revoke all on public.step_limits from %I', r);
        end if;
    end loop;
end $$;
