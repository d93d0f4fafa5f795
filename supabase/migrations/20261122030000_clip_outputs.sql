-- Files rendered beside each clip: {"srt": key, "vtt": key, "manifest": key}, plus how
-- the clip was cut ("method") and in which format.
alter table public.video_clips add column if not exists outputs jsonb not null default '{}'::jsonb;
