-- Resumable uploads: a file sent in Content-Range chunks against an upload id, stored as
-- the chunks arrive (a sparse file under DATA_DIR) and turned into a job once complete.

create table if not exists public.uploads (
    id          text primary key,                 -- random, the capability to write to it
    filename    text not null,
    size_bytes  bigint not null check (size_bytes > 0),
    status      text not null default 'open' check (status in ('open', 'completing', 'completed')),
    token       text,                             -- the job's token once completed
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now()
);

-- One row per distinct byte range received; the same chunk sent again adds nothing.
create table if not exists public.upload_chunks (
    upload_id   text not null references public.uploads(id) on delete cascade,
    start_byte  bigint not null check (start_byte >= 0),
    end_byte    bigint not null,                  -- inclusive, as in Content-Range
    primary key (upload_id, start_byte, end_byte),
    check (end_byte >= start_byte)
);

alter table public.uploads       enable row level security;
alter table public.upload_chunks enable row level security;
