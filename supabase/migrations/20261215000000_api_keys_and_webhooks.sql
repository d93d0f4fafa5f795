-- API keys, the job list, and webhooks (issue 16); idempotency keys bound to the request
-- and to the key (issue 11, item 8).
--
-- 1. Keys. Only a SHA-256 of each key is stored (the key is 256 random bits, so a plain
--    hash cannot be reversed or guessed; see the README). A rotation keeps the old hash
--    valid until `previous_expires_at`. `rate_tat` is the key's rate-limit state (GCRA:
--    the theoretical arrival time of its next request), kept here so every web process
--    shares one limit. Limits left null take the server's defaults (server/settings.py).
-- 2. The quotas' ledger: each video's charges to its key (a video, its source seconds:
--    at submission for uploads, once downloaded for URLs), by UTC day.
-- 3. Videos belong to the key that submitted them (the job list); an idempotency key is
--    unique per API key (anonymous submissions share one scope) and remembers the
--    request it was first used with (`request_fingerprint`).
-- 4. Webhooks. A video's subscription (`video_webhooks`), one row per event
--    (`webhook_deliveries`, whose `msg_id` is the `webhook-id` header, the same on every
--    retry), and one row per attempt with its response code (`webhook_attempts`). A
--    trigger on the queue records the event and enqueues a job of kind `webhook` (step
--    `deliver_webhook`, token = msg_id) in the same transaction that finishes the video or
--    its step, so every path that ends a job (advance, fail, cancel) notifies exactly
--    once. Whether a delivery succeeded is its job's status.

create table if not exists public.api_keys (
    id                      bigint generated always as identity primary key,
    name                    text not null check (length(name) between 1 and 100),
    prefix                  text not null,           -- the key's first characters, to recognise it
    key_hash                text not null unique,    -- hex SHA-256 of the whole key
    previous_hash           text unique,             -- the key before the last rotation
    previous_expires_at     timestamptz,             -- ... valid until then
    rate_per_min            real check (rate_per_min >= 0),              -- null: API_KEY_RATE_PER_MIN
    videos_per_day          integer check (videos_per_day >= 0),         -- null: API_KEY_VIDEOS_PER_DAY
    source_minutes_per_day  real check (source_minutes_per_day >= 0),    -- null: API_KEY_SOURCE_MINUTES_PER_DAY
    webhook_secret          text not null,           -- whsec_...: signs this key's webhooks
    rate_tat                timestamptz not null default 'epoch',
    created_at              timestamptz not null default now(),
    last_used_at            timestamptz,
    revoked_at              timestamptz
);
-- A name picks out one live key (revoke, rotate); revoked keys keep theirs.
create unique index if not exists api_keys_live_name on public.api_keys (name) where revoked_at is null;

-- The quotas' ledger: what each video was charged to its key, once per kind of charge
-- (the primary key), on the UTC day it was charged. A key's usage of a day is the sum.
create table if not exists public.api_key_charges (
    video_id    bigint not null references public.videos (id) on delete cascade,
    what        text not null check (what in ('video', 'source_seconds')),
    api_key_id  bigint not null references public.api_keys (id) on delete cascade,
    day         date not null,
    amount      double precision not null check (amount >= 0),
    charged_at  timestamptz not null default now(),
    primary key (video_id, what)
);
create index if not exists api_key_charges_day_idx on public.api_key_charges (api_key_id, day);

alter table public.videos add column if not exists api_key_id bigint
    references public.api_keys (id) on delete set null;
alter table public.videos add column if not exists request_fingerprint text;
-- The job list: a key's videos, newest first (keyset pagination on id).
create index if not exists videos_api_key_idx on public.videos (api_key_id, id desc)
    where api_key_id is not null;
alter table public.videos drop constraint if exists videos_idempotency_key_key;
create unique index if not exists videos_idempotency_scope
    on public.videos (api_key_id, idempotency_key) nulls not distinct
    where idempotency_key is not null;

alter table public.uploads add column if not exists api_key_id bigint
    references public.api_keys (id) on delete set null;

create table if not exists public.video_webhooks (
    video_id      bigint primary key references public.videos (id) on delete cascade,
    url           text not null,
    events        text[] not null,
    max_attempts  integer not null check (max_attempts > 0)
);

create table if not exists public.webhook_deliveries (
    id           bigint generated always as identity primary key,
    msg_id       text not null unique,
    video_id     bigint not null references public.videos (id) on delete cascade,
    event        text not null check (event in ('video.completed', 'video.failed',
                                                'video.cancelled', 'video.step_completed')),
    step         text,                               -- the step that finished (step events)
    occurred_at  timestamptz not null default now(),
    body         text                                -- built at the first attempt, then resent as is
);
create index if not exists webhook_deliveries_video_idx on public.webhook_deliveries (video_id, id);

create table if not exists public.webhook_attempts (
    id           bigint generated always as identity primary key,
    delivery_id  bigint not null references public.webhook_deliveries (id) on delete cascade,
    attempt      integer not null,                   -- the job's attempt (step_runs has its worker)
    started_at   timestamptz not null default now(),
    finished_at  timestamptz,                        -- null: the worker died while sending
    status_code  integer,                            -- the receiver's answer, when there was one
    error        text
);
create index if not exists webhook_attempts_delivery_idx on public.webhook_attempts (delivery_id, id);

-- The new kind of job and its step (server/core/steps.py; tests/integration/test_contracts.py).
alter table public.video_processing_queue drop constraint if exists video_processing_queue_kind_check;
alter table public.video_processing_queue add constraint video_processing_queue_kind_check
    check (kind in ('video', 'audio_enhance', 'webhook'));
alter table public.video_processing_queue drop constraint if exists video_processing_queue_handle_check;
alter table public.video_processing_queue add constraint video_processing_queue_handle_check
    check (case kind when 'video' then video_id is not null and token is null
                     when 'audio_enhance' then video_id is null and token is not null
                     when 'webhook' then video_id is null and token is not null
                     else true end);
alter table public.video_processing_queue drop constraint if exists video_processing_queue_pipeline_step_check;
alter table public.video_processing_queue add constraint video_processing_queue_pipeline_step_check
    check (pipeline_step in ('download', 'transcribe', 'classify', 'find_clips', 'render',
                             'enhance_audio', 'deliver_webhook', 'done'));
alter table public.step_runs drop constraint if exists step_runs_step_check;
alter table public.step_runs add constraint step_runs_step_check
    check (step in ('download', 'transcribe', 'classify', 'find_clips', 'render', 'enhance_audio',
                    'deliver_webhook'));
alter table public.step_limits drop constraint if exists step_limits_step_check;
alter table public.step_limits add constraint step_limits_step_check
    check (step in ('download', 'transcribe', 'classify', 'find_clips', 'render', 'enhance_audio',
                    'deliver_webhook'));

-- Records one event of a subscribed video and queues its delivery.
create or replace function public.enqueue_webhook(hook public.video_webhooks, event text, step text)
returns void language plpgsql as $$
declare
    msg text := 'msg_' || replace(gen_random_uuid()::text, '-', '');
    delivery bigint;
begin
    if not (event = any (hook.events)) then
        return;
    end if;
    insert into public.webhook_deliveries (msg_id, video_id, event, step)
    values (msg, hook.video_id, event, step) returning id into delivery;
    insert into public.video_processing_queue (kind, token, pipeline_step, payload, max_attempts)
    values ('webhook', msg, 'deliver_webhook', jsonb_build_object('delivery_id', delivery),
            hook.max_attempts);
end $$;

create or replace function public.video_webhook_events() returns trigger
language plpgsql as $$
declare hook public.video_webhooks;
begin
    select * into hook from public.video_webhooks where video_id = new.video_id;
    if not found then
        return new;
    end if;
    -- A step finished when the job moved on from it (the last one moves on to 'done').
    if new.pipeline_step is distinct from old.pipeline_step then
        perform public.enqueue_webhook(hook, 'video.step_completed', old.pipeline_step);
    end if;
    if new.status is distinct from old.status and new.status in ('completed', 'failed', 'cancelled') then
        perform public.enqueue_webhook(hook, 'video.' || new.status, null);
    end if;
    return new;
end $$;

drop trigger if exists video_webhook_events on public.video_processing_queue;
create trigger video_webhook_events after update of status, pipeline_step
    on public.video_processing_queue
    for each row when (new.kind = 'video') execute function public.video_webhook_events();

alter table public.api_keys           enable row level security;
alter table public.api_key_charges    enable row level security;
alter table public.video_webhooks     enable row level security;
alter table public.webhook_deliveries enable row level security;
alter table public.webhook_attempts   enable row level security;

-- Only the server's role (the functions' owner) runs them.
revoke all on function public.enqueue_webhook(public.video_webhooks, text, text) from public;
revoke all on function public.video_webhook_events() from public;

do $$
declare r text;
begin
    foreach r in array array['anon', 'authenticated'] loop
        if exists (select 1 from pg_roles where rolname = r) then
            execute format('revoke all on public.api_keys, public.api_key_charges, public.video_webhooks,
                public.webhook_deliveries, public.webhook_attempts from %I', r);
        end if;
    end loop;
end $$;

-- What the dashboard shows beside each table and column.
comment on table public.api_keys is 'API keys: only the SHA-256 of each key; limits, rate state, webhook secret';
comment on column public.api_keys.id is 'the key''s identity; its videos stay its own across rotations';
comment on column public.api_keys.name is 'a label, unique among live keys (clips keys create --name)';
comment on column public.api_keys.prefix is 'the key''s first characters, to recognise it in lists';
comment on column public.api_keys.key_hash is 'hex SHA-256 of the whole key; the key itself is never stored';
comment on column public.api_keys.previous_hash is 'the key before the last rotation, valid until previous_expires_at';
comment on column public.api_keys.previous_expires_at is 'end of the rotation''s grace period';
comment on column public.api_keys.rate_per_min is 'requests a minute; null: API_KEY_RATE_PER_MIN; 0: unlimited';
comment on column public.api_keys.videos_per_day is 'videos per UTC day; null: API_KEY_VIDEOS_PER_DAY; 0: unlimited';
comment on column public.api_keys.source_minutes_per_day is 'source minutes per UTC day; null: API_KEY_SOURCE_MINUTES_PER_DAY; 0: unlimited';
comment on column public.api_keys.webhook_secret is 'whsec_...: signs the webhooks of this key''s videos';
comment on column public.api_keys.rate_tat is 'rate limit state (GCRA): when the next request is theoretically due';
comment on column public.api_keys.created_at is 'when the key was created';
comment on column public.api_keys.last_used_at is 'the last request that used it';
comment on column public.api_keys.revoked_at is 'when it was revoked; null while live';

comment on table public.api_key_charges is 'the quotas'' ledger: what each video cost its key, once per kind of charge';
comment on column public.api_key_charges.video_id is 'the video charged for';
comment on column public.api_key_charges.what is 'video (one submission) or source_seconds (its length)';
comment on column public.api_key_charges.api_key_id is 'the key charged';
comment on column public.api_key_charges.day is 'the UTC day the charge counts on';
comment on column public.api_key_charges.amount is '1 for a video, seconds for source_seconds';
comment on column public.api_key_charges.charged_at is 'when it was charged';

comment on column public.videos.api_key_id is 'the API key that submitted it (null: anonymous)';
comment on column public.videos.request_fingerprint is 'SHA-256 of the submission as sent: an Idempotency-Key is bound to it';
comment on column public.uploads.api_key_id is 'the API key that started the upload; the video it becomes is the key''s';

comment on table public.video_webhooks is 'a video''s webhook subscription: where to POST which events';
comment on column public.video_webhooks.video_id is 'the subscribed video';
comment on column public.video_webhooks.url is 'the receiver (checked like video URLs at submission and at connect time)';
comment on column public.video_webhooks.events is 'the events asked for (video.completed, video.failed, video.cancelled, video.step_completed)';
comment on column public.video_webhooks.max_attempts is 'attempts each event gets (WEBHOOK_MAX_ATTEMPTS)';

comment on table public.webhook_deliveries is 'one row per webhook event; its job (kind webhook, token = msg_id) sends it';
comment on column public.webhook_deliveries.id is 'the delivery';
comment on column public.webhook_deliveries.msg_id is 'the webhook-id header, the same on every retry of this event';
comment on column public.webhook_deliveries.video_id is 'the video the event is about';
comment on column public.webhook_deliveries.event is 'video.completed, video.failed, video.cancelled or video.step_completed';
comment on column public.webhook_deliveries.step is 'the step that finished (video.step_completed)';
comment on column public.webhook_deliveries.occurred_at is 'when the event happened';
comment on column public.webhook_deliveries.body is 'the JSON sent, built at the first attempt and resent unchanged';

comment on table public.webhook_attempts is 'one row per attempt to deliver a webhook event, with the receiver''s answer';
comment on column public.webhook_attempts.id is 'the attempt';
comment on column public.webhook_attempts.delivery_id is 'the event delivered';
comment on column public.webhook_attempts.attempt is 'the job''s attempt number (step_runs has its worker)';
comment on column public.webhook_attempts.started_at is 'when it was sent';
comment on column public.webhook_attempts.finished_at is 'when it ended; null: the worker died mid-attempt';
comment on column public.webhook_attempts.status_code is 'the receiver''s HTTP status; null when no answer came';
comment on column public.webhook_attempts.error is 'why it did not count as delivered';

comment on column public.video_processing_queue.kind is
    'what kind of work the row is: video (download to render), audio_enhance (one step) or webhook (one event to deliver); server/core/steps.py';
comment on column public.video_processing_queue.token is
    'the handle for jobs without a video: an audio_enhance job''s token, a webhook job''s msg_id; null for videos';
comment on column public.operator_jobs.kind is
    'what kind of work: video (the whole pipeline), audio_enhance, or webhook (one event to deliver)';
