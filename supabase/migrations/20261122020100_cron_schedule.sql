-- Every minute, pg_cron asks the server to claim and start work: a POST through pg_net to
-- <clips_server_url>/internal/perform-video-processing with the bearer token, both read
-- from Supabase Vault when the job runs (rotating a secret needs no new schedule).
-- The endpoint answers at once and the steps run on in the server, so the 5 s pg_net
-- timeout is ample.
--
-- Guarded: where pg_cron or pg_net cannot be created (the embedded Postgres, a plain
-- server, a database other than cron.database_name) this migration changes nothing and
-- says so in a notice; `scripts/cron.sh` from a crontab does the same job there.
do $$
begin
    begin
        create extension if not exists pg_cron;
    exception when others then
        raise notice 'pg_cron is not available here (%): no schedule', sqlerrm;
    end;
    begin
        create extension if not exists pg_net;
    exception when others then
        raise notice 'pg_net is not available here (%): no schedule', sqlerrm;
    end;

    if to_regnamespace('cron') is null
       or to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') is null
       or to_regclass('vault.decrypted_secrets') is null then
        raise notice 'pg_cron, pg_net or Vault is missing: the processing schedule is skipped';
        return;
    end if;

    perform cron.schedule(
        'clips-perform-video-processing',
        '* * * * *',
        $cmd$select net.http_post(
    url := (select decrypted_secret from vault.decrypted_secrets where name = 'clips_server_url')
           || '/internal/perform-video-processing',
    headers := jsonb_build_object(
        'Content-Type', 'application/json',
        'Authorization', 'Bearer ' || (select decrypted_secret from vault.decrypted_secrets
                                       where name = 'clips_internal_api_token')),
    body := '{}'::jsonb,
    timeout_milliseconds := 5000)$cmd$);
end $$;
