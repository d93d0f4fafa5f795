-- Every clip search says, in words, why it found fewer clips than asked for, or none, or
-- clips off the subject asked for ("The speech lasts 11 s, shorter than the 15 s a clip
-- must last ..."). The status shows it as `notice`. Null: nothing to say (and older rows).
alter table public.video_clip_searches
    add column if not exists notice text;

comment on column public.video_clip_searches.notice is
    'why there are fewer clips than asked for, none, or clips off the topic asked for; null when there is nothing to say';
