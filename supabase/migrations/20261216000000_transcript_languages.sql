-- Transcripts that keep every stretch of speech: the languages spoken (each with its share
-- of the speech time), how much of the voice-activity time the words cover, and which
-- audio track of the file was transcribed. Older rows keep nulls: they were not measured.
alter table public.video_transcripts
    add column if not exists languages   jsonb not null default '[]'::jsonb,  -- [{language, share, speech_s}]
    add column if not exists speech_s    double precision,                    -- voice-activity seconds
    add column if not exists coverage    real,                                -- 0..1, of speech_s
    add column if not exists audio_track jsonb;                               -- {index, count, reason, language, title}

comment on column public.video_transcripts.languages is
    'the languages spoken, each with its share of the speech time: [{language, share, speech_s}]';
comment on column public.video_transcripts.speech_s is 'seconds of voice activity in the source';
comment on column public.video_transcripts.coverage is
    'share (0..1) of the voice-activity time the transcript''s words cover; below 0.9 the status warns';
comment on column public.video_transcripts.audio_track is
    'which audio track was transcribed: {index, count, reason, language, title}';
