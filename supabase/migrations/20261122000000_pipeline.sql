-- The video pipeline: submissions, the work queue, one checkpoint table per step, and the
-- attempt history. Plain SQL (no psql meta-commands): the Supabase CLI and the server's own
-- migration runner both apply this file.

create table if not exists public.videos (
    id                  bigint generated always as identity primary key,
    token               text not null unique,             -- public handle, >= 128 random bits
    source_kind         text not null check (source_kind in ('url', 'upload')),
    source_url          text,
    upload_key          text,                             -- storage key of an uploaded file
    source_fingerprint  text not null,                    -- normalised URL or sha256 of the upload
    idempotency_key     text unique,
    title               text,
    duration_s          double precision,
    language            text,
    content_type        text,
    content_confidence  real,
    options             jsonb not null default '{}'::jsonb,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    check ((source_kind = 'url') = (source_url is not null))
);
create index if not exists videos_fingerprint_idx on public.videos (source_fingerprint);

create table if not exists public.video_processing_queue (
    id                bigint generated always as identity primary key,
    video_id          bigint not null unique references public.videos (id) on delete cascade,
    pipeline_step     text not null default 'download'
                      check (pipeline_step in ('download', 'transcribe', 'classify', 'find_clips', 'render', 'done')),
    status            text not null default 'queued'
                      check (status in ('queued', 'running', 'retrying', 'completed', 'failed', 'cancelled')),
    priority          integer not null default 0,          -- higher is claimed first
    attempts          integer not null default 0,          -- attempts of the current step
    max_attempts      integer not null default 5,
    run_after         timestamptz not null default now(),
    lease_owner       uuid,
    lease_expires_at  timestamptz,
    progress          real not null default 0 check (progress between 0 and 1),
    failure_cause     text,
    failure_details   text,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    finished_at       timestamptz,
    check ((status = 'running') = (lease_owner is not null))
);
-- Serves the claim query: only live rows are indexed, so finished jobs cost nothing.
create index if not exists video_processing_queue_claim_idx
    on public.video_processing_queue (pipeline_step, priority desc, run_after, id)
    where status in ('queued', 'retrying', 'running');

-- Checkpoints: one row per video and step, written in the same transaction that advances
-- pipeline_step. The primary keys make a second write of the same checkpoint impossible.
create table if not exists public.video_media (
    video_id     bigint primary key references public.videos (id) on delete cascade,
    storage_key  text not null,
    bytes        bigint not null,
    sha256       text not null,
    duration_s   double precision not null,
    width        integer,
    height       integer,
    created_at   timestamptz not null default now()
);

create table if not exists public.video_transcripts (
    video_id              bigint primary key references public.videos (id) on delete cascade,
    engine                text not null,
    model                 text not null,
    language              text not null,
    language_probability  real not null,
    duration_s            double precision not null,
    segments              jsonb not null,               -- [{start, end, text, words: [{start, end, word, probability}]}]
    transcribe_seconds    double precision,
    created_at            timestamptz not null default now()
);

create table if not exists public.video_analyses (
    video_id        bigint primary key references public.videos (id) on delete cascade,
    analyzer        text not null,
    content_type    text not null,
    confidence      real not null,
    rationale       text not null default '',
    topics          jsonb not null default '[]'::jsonb,
    raw_output      jsonb not null default '{}'::jsonb,
    tokens_used     integer not null default 0,
    cost_usd        numeric(12, 6) not null default 0,
    created_at      timestamptz not null default now()
);

create table if not exists public.video_clip_searches (
    video_id        bigint primary key references public.videos (id) on delete cascade,
    analyzer        text not null,
    raw_output      jsonb not null default '{}'::jsonb,
    tokens_used     integer not null default 0,
    cost_usd        numeric(12, 6) not null default 0,
    created_at      timestamptz not null default now()
);

create table if not exists public.video_clips (
    video_id        bigint not null references public.videos (id) on delete cascade,
    clip_index      integer not null,
    start_s         double precision not null,
    end_s           double precision not null check (end_s > start_s),
    title           text not null,
    reason          text not null,
    hook            text not null default '',
    score           real not null check (score between 0 and 100),
    video_key       text,                               -- set by render, clip by clip
    thumbnail_key   text,
    rendered_at     timestamptz,
    primary key (video_id, clip_index)
);

-- One row per attempt at a step: who ran it, for how long, and how it ended.
create table if not exists public.step_runs (
    id              bigint generated always as identity primary key,
    video_id        bigint not null references public.videos (id) on delete cascade,
    step            text not null,
    attempt         integer not null,
    worker_id       text not null,
    lease_owner     uuid not null unique,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    outcome         text check (outcome in ('succeeded', 'retrying', 'failed', 'lease_lost', 'cancelled', 'released', 'reused')),
    failure_cause   text,
    details         text
);
create index if not exists step_runs_video_idx on public.step_runs (video_id, id);

-- Only the server's own role touches these tables. RLS with no policies denies the
-- PostgREST roles (anon, authenticated) everything, and the grants are revoked as well.
alter table public.videos                 enable row level security;
alter table public.video_processing_queue enable row level security;
alter table public.video_media            enable row level security;
alter table public.video_transcripts      enable row level security;
alter table public.video_analyses         enable row level security;
alter table public.video_clip_searches    enable row level security;
alter table public.video_clips            enable row level security;
alter table public.step_runs              enable row level security;

do $$
declare r text;
begin
    foreach r in array array['anon', 'authenticated'] loop
        if exists (select 1 from pg_roles where rolname = r) then
            execute format('revoke all on public.videos, public.video_processing_queue, public.video_media,
                public.video_transcripts, public.video_analyses, public.video_clip_searches,
                public.video_clips, public.step_runs from %I', r);
        end if;
    end loop;
end $$;
