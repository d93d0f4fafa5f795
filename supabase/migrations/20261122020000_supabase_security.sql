-- Locks the pipeline down for a Supabase project, where PostgREST exposes the public schema
-- to the anon and authenticated roles and new tables are granted to them by default.
-- Safe on a plain Postgres (the roles are absent there) and safe to apply again.
--
-- The tables stay in public (rather than a private schema) because the server's queries
-- name them unqualified and a transaction pooler keeps no session state such as a
-- search_path; RLS without policies plus revoked grants gives PostgREST nothing to serve.

-- Every table in public has RLS, including the server's own migration ledger and any
-- table an earlier migration added.
do $$
declare t record;
begin
    for t in select c.oid::regclass as name
             from pg_class c join pg_namespace n on n.oid = c.relnamespace
             where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity loop
        execute format('alter table %s enable row level security', t.name);
    end loop;
end $$;

do $$
declare r text;
begin
    foreach r in array array['anon', 'authenticated'] loop
        if exists (select 1 from pg_roles where rolname = r) then
            execute format('revoke all on all tables in schema public from %I', r);
            execute format('revoke all on all sequences in schema public from %I', r);
            -- Tables created later by this role (the migration owner) are not granted either.
            execute format('alter default privileges in schema public revoke all on tables from %I', r);
            execute format('alter default privileges in schema public revoke all on sequences from %I', r);
        end if;
    end loop;
end $$;
