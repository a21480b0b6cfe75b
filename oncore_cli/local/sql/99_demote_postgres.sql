-- Runs as the real superuser (supabase_admin), last: `postgres` becomes what hosted Supabase leaves it, so a
-- migration hosted Supabase would refuse is refused here too. Mirrors supabase/postgres migrations/db/migrations:
-- 10000000000000_demote-postgres, 20211115181400_update-auth-permissions, 20240606060239 (predefined roles),
-- 20250421084701_revoke_admin_roles_from_postgres, 20250623125453 and 20250709135250 (storage grant options).

grant all on database postgres to postgres;
grant all on schema extensions to postgres;
grant all on all tables in schema extensions to postgres;
grant all on all sequences in schema extensions to postgres;
grant all on all routines in schema extensions to postgres;

-- auth: everything in it, but no CREATE in the schema and no ownership (GoTrue's role owns it)
grant usage on schema auth to postgres;
revoke create on schema auth from postgres;
grant all on all tables in schema auth to postgres;
grant all on all sequences in schema auth to postgres;
grant all on all routines in schema auth to postgres;
alter default privileges for role supabase_auth_admin in schema auth grant all on tables to postgres;
alter default privileges for role supabase_auth_admin in schema auth grant all on sequences to postgres;
alter default privileges for role supabase_auth_admin in schema auth grant all on routines to postgres;

-- storage: the same, with grant options on the schema and on buckets and objects
grant usage on schema storage to postgres with grant option;
revoke create on schema storage from postgres;
grant all on storage.buckets, storage.objects to postgres with grant option;
grant all on all sequences in schema storage to postgres;
grant all on all routines in schema storage to postgres;

grant pg_read_all_data, pg_signal_backend to postgres;
alter role supabase_admin set search_path to "$user", public, auth, extensions;
alter role postgres set search_path to "$user", public, extensions;
-- Not a superuser, so no COPY ... FROM PROGRAM, no untrusted languages, no reading the server's files.
alter role postgres nosuperuser createdb createrole login replication bypassrls;
-- Before PostgreSQL 16, CREATEROLE may grant any role (pg_execute_server_program, authenticator, the admin roles)
-- and change their passwords; hosted Supabase stops that with supautils' reserved_roles/reserved_memberships.
-- Without the extension, `postgres` keeps CREATEROLE only where PostgreSQL itself confines it (16 and later).
do $$
begin
  if current_setting('server_version_num')::int < 160000 then
    alter role postgres nocreaterole;
  end if;
end
$$;

-- supautils (privileged_role = 'postgres', policy_grants) lets `postgres` create, alter and drop row-level
-- security policies on some tables it does not own. Without the extension, two event triggers grant the owning
-- roles to `postgres` for the one policy command and take them back when it ends, refusing (as PostgreSQL would)
-- a policy on any other table those roles own. A failing command rolls the grant back with it; trigger functions
-- cannot be called directly, and `postgres` can change neither (schema and functions owned by the superuser).
create schema supautils authorization supabase_admin;
revoke all on schema supautils from public;

create function supautils.policy_grants() returns text[]
language sql immutable
set search_path = ''
as $$
  select array['auth.audit_log_entries', 'auth.identities', 'auth.refresh_tokens', 'auth.sessions', 'auth.users',
               'realtime.messages', 'storage.buckets', 'storage.migrations', 'storage.objects',
               'storage.s3_multipart_uploads', 'storage.s3_multipart_uploads_parts']
$$;

create function supautils.policy_command_start() returns event_trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if session_user = 'postgres' then
    grant supabase_auth_admin, supabase_storage_admin, supabase_realtime_admin to postgres;
  end if;
end
$$;

create function supautils.policy_command_done() returns void
language plpgsql
set search_path = ''
as $$
declare
  admin name;
begin
  for admin in
    select m.roleid::regrole::name from pg_catalog.pg_auth_members m
    where m.member = 'postgres'::regrole
      and m.roleid::regrole::name in ('supabase_auth_admin', 'supabase_storage_admin', 'supabase_realtime_admin')
  loop
    execute pg_catalog.format('revoke %I from postgres', admin);
  end loop;
end
$$;

-- Refuses a policy on a table the session's own role could not have changed, unless supautils would allow it.
create function supautils.check_policy_table(rel regclass) returns void
language plpgsql
set search_path = ''
as $$
declare
  owner name;
  qualified text;
begin
  select c.relowner::regrole::name, format('%s.%s', n.nspname, c.relname) into owner, qualified
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  where c.oid = rel;
  if owner is not null and not pg_catalog.pg_has_role(session_user, owner, 'USAGE')
     and not qualified = any (supautils.policy_grants()) then
    raise exception 'must be owner of table %', (select relname from pg_catalog.pg_class where oid = rel)
      using errcode = '42501';
  end if;
end
$$;

-- After CREATE/ALTER POLICY (ddl_command_end) and DROP POLICY (sql_drop): take the roles back, check the tables.
create function supautils.policy_command_end() returns event_trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  tables regclass[];
begin
  if session_user <> 'postgres' then
    return;
  end if;
  perform supautils.policy_command_done();
  if tg_event = 'sql_drop' then
    tables := array(select pg_catalog.to_regclass(pg_catalog.format('%I.%I', d.address_names[1], d.address_names[2]))
                    from pg_catalog.pg_event_trigger_dropped_objects() d where d.object_type = 'policy');
  else
    tables := array(select p.polrelid::regclass from pg_catalog.pg_event_trigger_ddl_commands() cmd
                    join pg_catalog.pg_policy p on p.oid = cmd.objid where cmd.object_type = 'policy');
  end if;
  perform supautils.check_policy_table(t) from unnest(tables) t;
end
$$;

-- supautils also lets `postgres` create event triggers, which PostgreSQL allows superusers only (and which no event
-- trigger can watch). The migration runner turns a migration's CREATE/DROP EVENT TRIGGER into these calls: the
-- trigger is made by the superuser, on a function `postgres` owns, from names only (no SQL text passes through).
create function supautils.create_event_trigger(trigger_name name, event name, tags text[], handler regprocedure)
returns void
language plpgsql security definer
set search_path = ''
as $$
begin
  if session_user <> 'postgres' then
    raise exception 'permission denied to create event trigger "%"', trigger_name using errcode = '42501';
  end if;
  if not exists (select from pg_catalog.pg_proc p where p.oid = handler and p.proowner = 'postgres'::regrole
                 and p.prorettype = 'pg_catalog.event_trigger'::regtype) then
    raise exception 'function % must return type event_trigger and belong to postgres', handler
      using errcode = '42501';
  end if;
  execute pg_catalog.format('create event trigger %I on %I %s execute function %s', trigger_name, event,
    case when tags is null then ''
         else pg_catalog.format('when tag in (%s)',
                                (select pg_catalog.string_agg(pg_catalog.quote_literal(t), ', ') from unnest(tags) t))
    end, handler);
end
$$;

create function supautils.drop_event_trigger(trigger_name name, missing_ok boolean) returns void
language plpgsql security definer
set search_path = ''
as $$
begin
  if session_user <> 'postgres' or exists (
       select from pg_catalog.pg_event_trigger e join pg_catalog.pg_proc p on p.oid = e.evtfoid
       where e.evtname = trigger_name and p.proowner <> 'postgres'::regrole) then
    raise exception 'must be owner of event trigger %', trigger_name using errcode = '42501';
  end if;
  execute pg_catalog.format('drop event trigger %s %I', case when missing_ok then 'if exists' else '' end,
                            trigger_name);
end
$$;

revoke all on all functions in schema supautils from public;
grant usage on schema supautils to postgres;
grant execute on function supautils.create_event_trigger(name, name, text[], regprocedure),
  supautils.drop_event_trigger(name, boolean) to postgres;
create event trigger supautils_policy_start on ddl_command_start
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY') execute function supautils.policy_command_start();
create event trigger supautils_policy_end on ddl_command_end
  when tag in ('CREATE POLICY', 'ALTER POLICY', 'DROP POLICY') execute function supautils.policy_command_end();
create event trigger supautils_policy_dropped on sql_drop
  when tag in ('DROP POLICY') execute function supautils.policy_command_end();
