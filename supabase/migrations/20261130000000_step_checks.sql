-- The attempt history names its step from the same list as the queue and the caps
-- (server/core/steps.py; tests/test_contracts.py compares the three with that enum).
do $$
begin
    if not exists (select 1 from pg_constraint where conname = 'step_runs_step_check') then
        alter table public.step_runs add constraint step_runs_step_check
            check (step in ('download', 'transcribe', 'classify', 'find_clips', 'render'));
    end if;
end $$;
