-- Local development only (`supabase start` and `supabase db reset` run it; `supabase db push`
-- does not, so a hosted project never gets these values).
-- Points the pg_cron schedule at a server on the developer's machine, with a development
-- token: host.docker.internal is how the local stack's containers reach the host, so run
--   INTERNAL_API_TOKEN=local-development-token PORT=8000 .venv/bin/clips serve
-- (PORT makes it listen on every interface, where Docker's network can reach it).
-- Skipped where Vault is absent, and leaves existing secrets alone.
do $$
begin
    if to_regclass('vault.secrets') is null then
        raise notice 'no Vault here: nothing to seed';
        return;
    end if;
    if not exists (select 1 from vault.secrets where name = 'clips_server_url') then
        perform vault.create_secret('http://host.docker.internal:8000', 'clips_server_url',
                                    'base URL of the clips server, for the pg_cron job');
    end if;
    if not exists (select 1 from vault.secrets where name = 'clips_internal_api_token') then
        perform vault.create_secret('local-development-token', 'clips_internal_api_token',
                                    'INTERNAL_API_TOKEN of the clips server');
    end if;
end $$;
