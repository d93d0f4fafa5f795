-- Coalescing concurrent submissions of one source (issue 11, item 14).
--
-- `source_key` copies the video's source fingerprint onto its job, so the claim can tell
-- jobs of one source apart without reading `videos`: while a job of a source runs a
-- coalesced step (download, transcribe) under a live lease, the claim passes over the
-- other jobs of that source at that step, and they reuse its checkpoint once it exists.
-- It is null for a forced submission (force means "redo": it neither waits nor is waited
-- for) and for kinds of job without a video.
alter table public.video_processing_queue add column if not exists source_key text;

-- Jobs queued before this migration take part too.
update public.video_processing_queue q
set source_key = v.source_fingerprint
from public.videos v
where v.id = q.video_id and q.kind = 'video' and q.source_key is null
  and q.status in ('queued', 'retrying', 'running')
  and not coalesce((v.options->>'force')::boolean, false);

-- Live jobs by source: the claim's test for a running job of the same source, and the
-- step's check under the source's lock. Finished jobs are not indexed.
create index if not exists video_processing_queue_source_idx
    on public.video_processing_queue (source_key, pipeline_step)
    where source_key is not null and status in ('queued', 'retrying', 'running');

comment on column public.video_processing_queue.source_key is
    'the source fingerprint of a video job (null when forced): while one job of a source downloads or transcribes it, the others wait and reuse its checkpoint';
