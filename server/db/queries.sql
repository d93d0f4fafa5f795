-- Named queries, called by name through server.db. Parameters use psycopg's %(name)s form.
-- Each query is called from exactly one store module, the one that owns its table
-- (server/db/jobs.py, videos.py, checkpoints.py, uploads.py); a test keeps it so.

-- name: insert_video
-- An idempotency key is unique within its API key's scope (submissions without a key
-- share one scope).
insert into videos (token, source_kind, source_url, upload_key, source_fingerprint,
                    idempotency_key, title, options, api_key_id, request_fingerprint)
values (%(token)s, %(source_kind)s, %(source_url)s, %(upload_key)s, %(fingerprint)s,
        %(idempotency_key)s, %(title)s, %(options)s, %(api_key_id)s, %(request_fingerprint)s)
on conflict (api_key_id, idempotency_key) where idempotency_key is not null do nothing
returning id, token;

-- name: video_by_idempotency_key
select id, token, request_fingerprint from videos
where idempotency_key = %(idempotency_key)s and api_key_id is not distinct from %(api_key_id)s;

-- name: insert_video_webhook
insert into video_webhooks (video_id, url, events, max_attempts)
values (%(video_id)s, %(url)s, %(events)s, %(max_attempts)s);

-- name: videos_of_key
-- One page of a key's videos, newest first: keyset pagination on the id, so rows inserted
-- meanwhile land before the first page and never shift a later one.
select v.id, v.token
from videos v
join video_processing_queue q on q.video_id = v.id and q.kind = 'video'
where v.api_key_id = %(key_id)s
  and (%(before_id)s::bigint is null or v.id < %(before_id)s::bigint)
  and (%(statuses)s::text[] is null or q.status = any(%(statuses)s::text[]))
order by v.id desc
limit %(limit)s;

-- name: enqueue
-- The job carries its source's fingerprint as `source_key` (for coalescing, see claim);
-- a forced submission does not.
insert into video_processing_queue (video_id, priority, max_attempts, source_key)
select v.id, %(priority)s, %(max_attempts)s,
       case when coalesce((v.options->>'force')::boolean, false) then null else v.source_fingerprint end
from videos v where v.id = %(video_id)s;

-- name: lock_step_limits
-- First statement of a claim transaction: serialises claimers of the capped steps asked
-- for. The claim that follows takes its snapshot after the lock is granted, so it counts
-- every lease committed by whoever held the lock before. (Counting in this statement
-- would not do: its snapshot predates the wait for the lock.)
select step from step_limits where step = any(%(steps)s) order by step for update;

-- name: claim
-- Claimable: waiting and due, or running under an expired lease (its worker died).
-- Each claimed row gets its own fresh lease owner and its step's lease length; a capped
-- step gets at most its free slots. The attempt the dead worker left open is closed as a
-- rescue. Row locks are held only until the claim commits.
-- Coalescing, at the steps in coalesce_steps (download, transcribe): a job whose source
-- (`source_key`) another job is running at that step under a live lease is passed over;
-- it waits for that job's checkpoint and then reuses it. Of several jobs of one source
-- picked together, only the first is claimed. Two workers claiming at the same moment
-- cannot see each other's claims; the step then checks under a lock (lock_source_step,
-- defer_to_runner).
with caps as (
    select l.step, l.max_running - (
               select count(*) from video_processing_queue q
               where q.pipeline_step = l.step and q.status = 'running' and q.lease_expires_at >= now()
           ) as free
    from step_limits l
    where l.step = any(%(steps)s)
), busy as (
    select pipeline_step, source_key from video_processing_queue
    where source_key is not null and status = 'running' and lease_expires_at >= now()
      and pipeline_step = any(%(coalesce_steps)s)
), picked as (
    select id, pipeline_step, priority, run_after, status, lease_owner,
           case when pipeline_step = any(%(coalesce_steps)s) then source_key end as coalesce_key
    from video_processing_queue
    where pipeline_step = any(%(steps)s)
      and pipeline_step not in (select step from caps where free <= 0)
      and status in ('queued', 'retrying', 'running')
      and ((status in ('queued', 'retrying') and run_after <= now())
           or (status = 'running' and lease_expires_at < now()))
      and (%(job_id)s::bigint is null or id = %(job_id)s::bigint)
      and not (source_key is not null and pipeline_step = any(%(coalesce_steps)s)
               and (pipeline_step, source_key) in (select pipeline_step, source_key from busy))
    order by priority desc, run_after, id
    limit %(limit)s
    for update skip locked
), one_per_source as (
    select * from (
        select p.*, row_number() over (partition by p.pipeline_step, p.coalesce_key
                                       order by p.priority desc, p.run_after, p.id) as source_rn
        from picked p
    ) p
    where p.coalesce_key is null or p.source_rn = 1
), leases as (
    select unnest(%(lease_steps)s::text[]) as step, unnest(%(lease_secs)s::float8[]) as secs
), chosen as (
    select p.*, l.secs from (
        select p.*, row_number() over (partition by p.pipeline_step
                                       order by p.priority desc, p.run_after, p.id) as rn
        from one_per_source p
    ) p
    left join caps c on c.step = p.pipeline_step
    left join leases l on l.step = p.pipeline_step
    where c.free is null or p.rn <= c.free
), rescued as (
    update step_runs r
    set finished_at = now(), outcome = 'lease_lost', failure_cause = 'worker_lost',
        details = 'lease expired while running; the job was rescued by another worker'
    from chosen
    where chosen.status = 'running' and r.lease_owner = chosen.lease_owner and r.finished_at is null
)
update video_processing_queue q
set status = 'running',
    lease_owner = gen_random_uuid(),
    lease_expires_at = now() + make_interval(secs => coalesce(chosen.secs, %(lease_s)s)),
    attempts = q.attempts + 1,
    progress = 0,
    updated_at = now()
from chosen
where q.id = chosen.id
returning q.id, q.kind, q.video_id, q.pipeline_step, q.attempts, q.max_attempts, q.lease_owner,
          q.priority, q.payload,
          coalesce(q.token, (select token from videos v where v.id = q.video_id)) as token;

-- name: lock_source_step
-- First statement of a step's coalescing check: serialises the jobs of one source at one
-- step (a transaction-level advisory lock, which a transaction pooler cannot leak). No row,
-- and no lock, for a job without a source key (forced) or whose source no other live job
-- shares: a job of that source queued later is claimed after this job's claim committed,
-- so it sees this one running and waits.
select pg_advisory_xact_lock(hashtextextended(me.source_key || ' ' || me.pipeline_step, 0)) as locked
from video_processing_queue me
where me.id = %(id)s and me.source_key is not null
  and exists (select 1 from video_processing_queue other
              where other.source_key = me.source_key and other.id <> me.id
                and other.status in ('queued', 'retrying', 'running'));

-- name: defer_to_runner
-- Second statement, under that lock, so its snapshot sees every job of the source that
-- took the lock before: while another job of the same source runs this step under a
-- live lease, this one hands its claim back (the attempt does not count, as on release)
-- and the claim passes it over until that job's checkpoint exists or its lease ends. Of
-- jobs claimed together, each defers to one still running, so the last to check runs.
update video_processing_queue q
set status = 'queued',
    attempts = greatest(q.attempts - 1, 0),
    lease_owner = null,
    lease_expires_at = null,
    progress = 0,
    run_after = now() + make_interval(secs => %(delay_s)s),
    updated_at = now()
where q.id = %(id)s and q.lease_owner = %(owner)s and q.status = 'running'
  and exists (select 1 from video_processing_queue other
              where other.source_key = q.source_key and other.id <> q.id
                and other.pipeline_step = q.pipeline_step and other.status = 'running'
                and other.lease_expires_at >= now())
returning q.id;

-- name: heartbeat
-- Extends the lease and records progress, only for the lease holder.
update video_processing_queue
set lease_expires_at = now() + make_interval(secs => %(lease_s)s),
    progress = %(progress)s,
    updated_at = now()
where id = %(id)s and lease_owner = %(owner)s and status = 'running'
returning id;

-- name: job_status
select status, lease_owner from video_processing_queue where id = %(id)s;

-- name: advance
-- Fenced: applies only while the writer still holds the lease. Same transaction as the
-- step's checkpoint insert, so a checkpoint exists exactly when the step has advanced.
update video_processing_queue
set pipeline_step = %(next_step)s,
    status = case when %(next_step)s = 'done' then 'completed' else 'queued' end,
    attempts = 0,
    progress = 0,
    lease_owner = null,
    lease_expires_at = null,
    run_after = now(),
    failure_cause = null,
    failure_details = null,
    updated_at = now(),
    finished_at = case when %(next_step)s = 'done' then now() end
where id = %(id)s and lease_owner = %(owner)s and status = 'running'
returning id;

-- name: retry_later
update video_processing_queue
set status = 'retrying',
    run_after = now() + make_interval(secs => %(delay_s)s),
    lease_owner = null,
    lease_expires_at = null,
    failure_cause = %(cause)s,
    failure_details = %(details)s,
    updated_at = now()
where id = %(id)s and lease_owner = %(owner)s and status = 'running'
returning id;

-- name: fail
update video_processing_queue
set status = 'failed',
    lease_owner = null,
    lease_expires_at = null,
    failure_cause = %(cause)s,
    failure_details = %(details)s,
    updated_at = now(),
    finished_at = now()
where id = %(id)s and lease_owner = %(owner)s and status = 'running'
returning id;

-- name: release
-- Graceful shutdown: hand the job back untouched; the attempt does not count.
update video_processing_queue
set status = 'queued',
    attempts = greatest(attempts - 1, 0),
    lease_owner = null,
    lease_expires_at = null,
    run_after = now(),
    updated_at = now()
where id = %(id)s and lease_owner = %(owner)s and status = 'running'
returning id;

-- name: cancel
update video_processing_queue q
set status = 'cancelled',
    lease_owner = null,
    lease_expires_at = null,
    failure_cause = 'cancelled',
    failure_details = 'cancelled by the submitter',
    updated_at = now(),
    finished_at = now()
from videos v
where v.id = q.video_id and q.kind = 'video' and v.token = %(token)s
  and q.status in ('queued', 'running', 'retrying')
returning q.id;

-- name: start_step_run
-- Records the attempt and, in the same round trip, reads the job's video (none for kinds
-- without one).
with run as (
    insert into step_runs (job_id, video_id, step, attempt, worker_id, lease_owner)
    values (%(job_id)s, %(video_id)s, %(step)s, %(attempt)s, %(worker_id)s, %(owner)s)
)
select * from videos where id = %(video_id)s;

-- name: finish_step_run
update step_runs
set finished_at = now(), outcome = %(outcome)s, failure_cause = %(cause)s, details = %(details)s
where lease_owner = %(owner)s and finished_at is null;

-- name: step_runs_for_videos
select video_id, step, attempt, worker_id, started_at, finished_at, outcome, failure_cause, details
from step_runs where video_id = any(%(video_ids)s) order by id;

-- name: update_video_meta
update videos
set title = coalesce(%(title)s, title),
    duration_s = coalesce(%(duration_s)s, duration_s),
    language = coalesce(%(language)s, language),
    content_type = coalesce(%(content_type)s, content_type),
    content_confidence = coalesce(%(content_confidence)s, content_confidence),
    updated_at = now()
where id = %(video_id)s;

-- name: save_media
insert into video_media (video_id, storage_key, bytes, sha256, duration_s, width, height)
values (%(video_id)s, %(storage_key)s, %(bytes)s, %(sha256)s, %(duration_s)s, %(width)s, %(height)s);

-- name: media_for_video
select * from video_media where video_id = %(video_id)s;

-- name: save_transcript
insert into video_transcripts (video_id, engine, model, language, language_probability,
                               duration_s, segments, transcribe_seconds, languages, speech_s,
                               coverage, audio_track)
values (%(video_id)s, %(engine)s, %(model)s, %(language)s, %(language_probability)s,
        %(duration_s)s, %(segments)s, %(transcribe_seconds)s, %(languages)s, %(speech_s)s,
        %(coverage)s, %(audio_track)s);

-- name: transcript_for_video
select * from video_transcripts where video_id = %(video_id)s;

-- name: save_analysis
insert into video_analyses (video_id, analyzer, content_type, confidence, rationale, topics,
                            raw_output, tokens_used, cost_usd)
values (%(video_id)s, %(analyzer)s, %(content_type)s, %(confidence)s, %(rationale)s,
        %(topics)s, %(raw_output)s, %(tokens_used)s, %(cost_usd)s);

-- name: analysis_for_video
select * from video_analyses where video_id = %(video_id)s;

-- name: save_clip_search
insert into video_clip_searches (video_id, analyzer, raw_output, tokens_used, cost_usd, notice)
values (%(video_id)s, %(analyzer)s, %(raw_output)s, %(tokens_used)s, %(cost_usd)s, %(notice)s);

-- name: save_clip
insert into video_clips (video_id, clip_index, start_s, end_s, title, reason, hook, score)
values (%(video_id)s, %(clip_index)s, %(start_s)s, %(end_s)s, %(title)s, %(reason)s,
        %(hook)s, %(score)s);

-- name: clips_for_videos
select * from video_clips where video_id = any(%(video_ids)s) order by video_id, clip_index;

-- name: save_rendered_clip
-- Fenced like `advance`: a worker that lost its lease records nothing.
update video_clips c
set video_key = %(video_key)s, thumbnail_key = %(thumbnail_key)s, outputs = %(outputs)s,
    rendered_at = now()
from video_processing_queue q
where c.video_id = %(video_id)s and c.clip_index = %(clip_index)s
  and q.video_id = c.video_id and q.lease_owner = %(owner)s and q.status = 'running'
returning c.clip_index;

-- name: status_by_token
select v.id as video_id, v.token, v.source_kind, v.source_url, v.title, v.duration_s,
       v.language, v.content_type, v.content_confidence, v.created_at,
       q.pipeline_step, q.status, q.progress, q.attempts, q.max_attempts, q.run_after,
       q.failure_cause, q.failure_details, q.updated_at, q.finished_at,
       a.tokens_used as analysis_tokens, s.tokens_used as clip_tokens,
       coalesce(a.cost_usd, 0) + coalesce(s.cost_usd, 0) as cost_usd,
       t.languages, t.speech_s, t.coverage, t.audio_track, v.options, m.storage_key as media_key,
       s.video_id is not null as clips_searched, s.notice as clip_notice,
       -- a job the claim passes over while another job of its source runs its step
       (q.status in ('queued', 'retrying') and q.pipeline_step = any(%(coalesce_steps)s)
        and exists (select 1 from video_processing_queue o
                    where o.source_key = q.source_key and o.pipeline_step = q.pipeline_step
                      and o.id <> q.id and o.status = 'running'
                      and o.lease_expires_at >= now())) as waiting_on_source
from videos v
join video_processing_queue q on q.video_id = v.id and q.kind = 'video'
left join video_analyses a on a.video_id = v.id
left join video_clip_searches s on s.video_id = v.id
left join video_transcripts t on t.video_id = v.id
left join video_media m on m.video_id = v.id
where v.token = any(%(tokens)s);

-- name: briefs_by_tokens
-- The history's badges: several videos in one round trip, with how many clips each has and
-- how many of them are being rendered again.
select v.token, v.title, v.source_kind, v.source_url, v.created_at,
       q.status, q.pipeline_step, q.progress, q.failure_cause, q.finished_at,
       (select count(*) from video_clips c where c.video_id = v.id) as clips,
       (select count(*) from video_processing_queue r
        where r.video_id = v.id and r.kind = 'clip_render'
          and r.status in ('queued', 'running', 'retrying')) as rendering
from videos v
join video_processing_queue q on q.video_id = v.id and q.kind = 'video'
where v.token = any(%(tokens)s);

-- name: transcript_by_token
select t.* from video_transcripts t join videos v on v.id = t.video_id where v.token = %(token)s;

-- name: health
select 1 as ok;

-- name: job_id_by_token
select q.id from video_processing_queue q join videos v on v.id = q.video_id
where v.token = %(token)s and q.kind = 'video';

-- name: set_step_limit
insert into step_limits (step, max_running) values (%(step)s, %(max_running)s)
on conflict (step) do update set max_running = excluded.max_running, updated_at = now()
returning step, max_running;

-- name: clear_step_limit
delete from step_limits where step = %(step)s returning step;

-- name: reuse_media
-- An earlier submission of the same source already downloaded it: share its stored file.
insert into video_media (video_id, storage_key, bytes, sha256, duration_s, width, height)
select %(video_id)s, m.storage_key, m.bytes, m.sha256, m.duration_s, m.width, m.height
from videos me
join videos v on v.source_fingerprint = me.source_fingerprint and v.id <> me.id
join video_media m on m.video_id = v.id
where me.id = %(video_id)s
order by m.created_at
limit 1
returning video_id;

-- name: reuse_transcript
insert into video_transcripts (video_id, engine, model, language, language_probability,
                               duration_s, segments, transcribe_seconds, languages, speech_s,
                               coverage, audio_track)
select %(video_id)s, t.engine, t.model, t.language, t.language_probability, t.duration_s,
       t.segments, t.transcribe_seconds, t.languages, t.speech_s, t.coverage, t.audio_track
from videos me
join videos v on v.source_fingerprint = me.source_fingerprint and v.id <> me.id
join video_transcripts t on t.video_id = v.id
-- only a transcript of the very same file: the media checkpoint's hash must match
join video_media mine on mine.video_id = me.id
join video_media theirs on theirs.video_id = v.id and theirs.sha256 = mine.sha256
where me.id = %(video_id)s
  -- and only when both asked for the same language (or both let it be detected)
  and coalesce(me.options ->> 'language', '') = coalesce(v.options ->> 'language', '')
order by t.created_at
limit 1
returning video_id;

-- name: copy_video_meta
-- After a reused checkpoint: take over what the earlier run learnt about the video.
update videos me
set title = coalesce(me.title, v.title),
    duration_s = coalesce(me.duration_s, v.duration_s),
    language = coalesce(me.language, v.language),
    updated_at = now()
from videos v
where me.id = %(video_id)s and v.source_fingerprint = me.source_fingerprint and v.id <> me.id
  and v.duration_s is not null;

-- name: prune_step_runs
-- Retention for the attempt history; only finished attempts are deleted.
delete from step_runs
where finished_at < now() - %(days)s::float8 * interval '1 day';

-- name: metrics_jobs
select kind, pipeline_step as step, status, count(*) as n
from video_processing_queue group by 1, 2, 3 order by 1, 2, 3;

-- name: metrics_outcomes
-- Running totals kept by the step_runs trigger: never pruned, so they never go down.
select step, outcome, failure_cause as cause, n from step_outcome_totals order by 1, 2, 3;

-- name: metrics_durations
select step, le, n, seconds from step_duration_totals order by step, le;

-- name: enqueue_audio
insert into video_processing_queue (kind, token, pipeline_step, payload, max_attempts)
values ('audio_enhance', %(token)s, 'enhance_audio', %(payload)s, %(max_attempts)s)
returning id;

-- name: audio_job_by_token
select q.id, q.status, q.pipeline_step, q.progress, q.attempts, q.max_attempts, q.run_after,
       q.failure_cause, q.failure_details, q.payload, o.storage_key as output_key
from video_processing_queue q
left join audio_outputs o on o.job_id = q.id
where q.token = %(token)s and q.kind = 'audio_enhance';

-- name: enqueue_clip_render
-- Refused (no row) while another render of the same clip waits or runs: the partial unique
-- index video_processing_queue_one_live_render.
insert into video_processing_queue (kind, video_id, token, pipeline_step, payload, priority, max_attempts)
values ('clip_render', %(video_id)s, %(token)s, 'render_clip', %(payload)s, %(priority)s,
        %(max_attempts)s)
on conflict do nothing
returning id;

-- name: clip_renders_for_videos
select id, video_id, token, status, progress, attempts, max_attempts, run_after, failure_cause,
       failure_details, payload, created_at, finished_at
from video_processing_queue
where video_id = any(%(video_ids)s) and kind = 'clip_render'
order by id;

-- name: save_clip_version
-- A clip rendered again: its new bounds and files, in the transaction that completes the
-- render job (fenced by that job's lease).
update video_clips
set start_s = %(start_s)s, end_s = %(end_s)s, video_key = %(video_key)s,
    thumbnail_key = %(thumbnail_key)s, outputs = %(outputs)s, rendered_at = now()
where video_id = %(video_id)s and clip_index = %(clip_index)s;

-- name: save_audio_output
insert into audio_outputs (job_id, storage_key, duration_s, bytes)
values (%(job_id)s, %(storage_key)s, %(duration_s)s, %(bytes)s);

-- name: create_upload
insert into uploads (id, filename, size_bytes, api_key_id)
values (%(id)s, %(filename)s, %(size_bytes)s, %(api_key_id)s);

-- name: upload_by_id
select id, filename, size_bytes, status, token, api_key_id from uploads where id = %(id)s;

-- name: record_chunk
insert into upload_chunks (upload_id, start_byte, end_byte)
values (%(upload_id)s, %(start_byte)s, %(end_byte)s)
on conflict do nothing;

-- name: upload_ranges
select start_byte, end_byte from upload_chunks where upload_id = %(upload_id)s
order by start_byte, end_byte;

-- name: start_completing_upload
-- Only one request may turn an upload into a job.
update uploads set status = 'completing', updated_at = now()
where id = %(id)s and status = 'open'
returning id;

-- name: reopen_upload
update uploads set status = 'open', updated_at = now() where id = %(id)s and status = 'completing';

-- name: finish_upload
update uploads set status = 'completed', token = %(token)s, updated_at = now() where id = %(id)s;

-- name: create_api_key
insert into api_keys (name, prefix, key_hash, webhook_secret, rate_per_min, videos_per_day,
                      source_minutes_per_day)
values (%(key_name)s, %(prefix)s, %(key_hash)s, %(webhook_secret)s, %(rate_per_min)s,
        %(videos_per_day)s, %(source_minutes_per_day)s)
on conflict (name) where revoked_at is null do nothing
returning id, name, prefix, created_at;

-- name: list_api_keys
-- Every key with what it used today (UTC); never the hashes or the webhook secret.
select k.id, k.name, k.prefix, k.rate_per_min, k.videos_per_day, k.source_minutes_per_day,
       k.created_at, k.last_used_at, k.revoked_at,
       k.previous_hash is not null and k.previous_expires_at > now() as previous_valid,
       coalesce(sum(c.amount) filter (where c.what = 'video'), 0)::int as videos_today,
       coalesce(sum(c.amount) filter (where c.what = 'source_seconds'), 0)::float8 as source_seconds_today
from api_keys k
left join api_key_charges c on c.api_key_id = k.id and c.day = (now() at time zone 'utc')::date
group by k.id
order by k.revoked_at is not null, k.name, k.id;

-- name: revoke_api_key
update api_keys set revoked_at = now() where name = %(key_name)s and revoked_at is null
returning id;

-- name: rotate_api_key
-- The new key replaces the old one; the old one stays valid for `grace_s` seconds (0: not
-- at all), so clients can switch over without an outage.
update api_keys
set previous_hash = case when %(grace_s)s > 0 then key_hash end,
    previous_expires_at = case when %(grace_s)s > 0 then now() + make_interval(secs => %(grace_s)s) end,
    key_hash = %(key_hash)s, prefix = %(prefix)s
where name = %(key_name)s and revoked_at is null
returning id;

-- name: set_webhook_secret
update api_keys set webhook_secret = %(secret)s where name = %(key_name)s and revoked_at is null
returning id;

-- name: take_key_request
-- Authenticates a key and takes one request from its rate, in one statement. The rate is
-- a GCRA: each request moves the key's theoretical arrival time (`rate_tat`) on by
-- 60/rate seconds, and a request goes through while that stays within a minute of now (a
-- burst of `rate` requests, then `rate` a minute). The row lock makes concurrent requests
-- of one key, from every web process, take their turns.
update api_keys k
set rate_tat = greatest(k.rate_tat, now())
               + make_interval(secs => coalesce(60.0 / nullif(coalesce(k.rate_per_min, %(default_rate)s), 0), 0)),
    last_used_at = now()
where (k.key_hash = %(key_hash)s or (k.previous_hash = %(key_hash)s and k.previous_expires_at > now()))
  and k.revoked_at is null
  and greatest(k.rate_tat, now())
      + make_interval(secs => coalesce(60.0 / nullif(coalesce(k.rate_per_min, %(default_rate)s), 0), 0))
      <= now() + interval '1 minute'
returning k.id, k.name, k.rate_per_min, k.videos_per_day, k.source_minutes_per_day;

-- name: relaxed_commit
-- For writes that may be lost in a crash without harm (a key's rate state, its last use):
-- the commit does not wait for the WAL to reach the disk.
set local synchronous_commit = off;

-- name: key_refusal
-- Why take_key_request let nothing through: no such key, a revoked one, or the seconds
-- until its rate lets the next request through.
select k.revoked_at is not null as revoked,
       extract(epoch from greatest(k.rate_tat, now())
               + make_interval(secs => coalesce(60.0 / nullif(coalesce(k.rate_per_min, %(default_rate)s), 0), 0))
               - now() - interval '1 minute')::float8 as wait_s
from api_keys k
where k.key_hash = %(key_hash)s or (k.previous_hash = %(key_hash)s and k.previous_expires_at > now());

-- name: lock_api_key
-- The key's limits, its row locked for the rest of the transaction: concurrent charges to
-- one key take turns, so no two of them both see the last unit of a quota free. (No key
-- update: the lock the foreign keys of the new video and charge take on this row must not
-- conflict with it, or two submissions holding one each would deadlock.)
select coalesce(videos_per_day, %(videos_default)s) as videos_limit,
       coalesce(source_minutes_per_day, %(minutes_default)s) * 60 as seconds_limit
from api_keys where id = %(key_id)s
for no key update;

-- name: add_key_charge
-- Once per video and kind of charge: a second charge of the same adds nothing.
insert into api_key_charges (video_id, what, api_key_id, day, amount)
values (%(video_id)s, %(what)s, %(key_id)s, (now() at time zone 'utc')::date, %(amount)s)
on conflict (video_id, what) do nothing
returning video_id;

-- name: key_usage_today
select coalesce(sum(amount) filter (where what = 'video'), 0)::int as videos,
       coalesce(sum(amount) filter (where what = 'source_seconds'), 0)::float8 as seconds,
       extract(epoch from date_trunc('day', now() at time zone 'utc') + interval '1 day'
                          - (now() at time zone 'utc'))::float8 as day_left_s
from api_key_charges
where api_key_id = %(key_id)s and day = (now() at time zone 'utc')::date;

-- name: webhook_delivery
select d.id, d.msg_id, d.event, d.step, d.occurred_at, d.body, v.token, w.url,
       k.webhook_secret as key_secret
from webhook_deliveries d
join videos v on v.id = d.video_id
join video_webhooks w on w.video_id = d.video_id
left join api_keys k on k.id = v.api_key_id
where d.id = %(id)s;

-- name: keep_webhook_body
-- Only the first attempt's body is kept: later attempts send the same bytes.
update webhook_deliveries set body = %(body)s where id = %(id)s and body is null
returning body;

-- name: start_webhook_attempt
insert into webhook_attempts (delivery_id, attempt)
values (%(delivery_id)s, %(attempt)s)
returning id;

-- name: finish_webhook_attempt
update webhook_attempts
set finished_at = now(), status_code = %(status_code)s, error = %(error)s
where id = %(id)s;

-- name: webhook_deliveries_of_videos
-- Each delivery with its job's state (a delivered event's job is completed) and its
-- attempts, oldest first.
select d.video_id, d.msg_id, d.event, d.step, d.occurred_at, q.status, q.attempts,
       q.max_attempts, q.run_after, q.failure_cause,
       coalesce((select jsonb_agg(jsonb_build_object(
                     'attempt', a.attempt, 'started_at', a.started_at,
                     'finished_at', a.finished_at, 'status_code', a.status_code,
                     'error', a.error) order by a.id)
                 from webhook_attempts a where a.delivery_id = d.id), '[]'::jsonb) as attempts
from webhook_deliveries d
join video_processing_queue q on q.token = d.msg_id and q.kind = 'webhook'
where d.video_id = any(%(video_ids)s)
order by d.id;
