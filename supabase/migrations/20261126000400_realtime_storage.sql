-- =====================================================================================================================
-- oncore realtime and storage.
--
-- Realtime streams changes of shows, advancing sessions, the three sections and the activity log (filtered by each
-- subscriber's RLS). Files travelling with an advance (stage plot, input list, riders) live in the private bucket
-- `advancing` under `<org_id>/<session_id>/<file>`: members of the organization read and write them, viewers read,
-- and a session's venue guests read and write that session's folder.
-- =====================================================================================================================

-- ---------------------------------------------------------------------------------------------------------------------
-- Realtime publication
-- ---------------------------------------------------------------------------------------------------------------------
do $$
declare
  t text;
begin
  foreach t in array array['shows', 'advancing_sessions', 'hospitality', 'technical', 'production', 'activity_log']
  loop
    if not exists (select from pg_publication_tables
                   where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = t) then
      execute format('alter publication supabase_realtime add table public.%I', t);
    end if;
  end loop;
end
$$;
-- Session status changes carry their previous values too.
alter table public.advancing_sessions replica identity full;

-- ---------------------------------------------------------------------------------------------------------------------
-- Storage bucket and policies
-- ---------------------------------------------------------------------------------------------------------------------
insert into storage.buckets (id, name, public, file_size_limit)
values ('advancing', 'advancing', false, 52428800)
on conflict (id) do nothing;

-- True if the signed-in user may read (`write` false) or write (`write` true) the object `name` of bucket
-- `advancing`: the path must be `<org_id>/<session_id>/<file>` with that session in that organization; readers are
-- viewers of the organization, writers members; a venue guest of the session does both. Used by storage policies.
create or replace function private.can_access_advancing_object(name text, write boolean)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  folders text[] := storage.foldername(name);
  uuid_pattern constant text := '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  org uuid;
  session uuid;
begin
  if pg_catalog.array_length(folders, 1) is distinct from 2
     or folders[1] !~* uuid_pattern or folders[2] !~* uuid_pattern then
    return false;
  end if;
  org := folders[1]::uuid;
  session := folders[2]::uuid;
  if not exists (select from public.advancing_sessions s where s.id = session and s.org_id = org) then
    return false;
  end if;
  return private.has_org_role(org, case when write then 'member' else 'viewer' end::public.org_role)
      or session in (select private.guest_session_ids());
end
$$;
revoke all on function private.can_access_advancing_object(text, boolean) from public, anon;
grant execute on function private.can_access_advancing_object(text, boolean) to authenticated, service_role;

drop policy if exists advancing_objects_select on storage.objects;
create policy advancing_objects_select on storage.objects for select to authenticated
  using (bucket_id = 'advancing' and private.can_access_advancing_object(name, false));
drop policy if exists advancing_objects_insert on storage.objects;
create policy advancing_objects_insert on storage.objects for insert to authenticated
  with check (bucket_id = 'advancing' and private.can_access_advancing_object(name, true));
drop policy if exists advancing_objects_update on storage.objects;
create policy advancing_objects_update on storage.objects for update to authenticated
  using (bucket_id = 'advancing' and private.can_access_advancing_object(name, true))
  with check (bucket_id = 'advancing' and private.can_access_advancing_object(name, true));
drop policy if exists advancing_objects_delete on storage.objects;
create policy advancing_objects_delete on storage.objects for delete to authenticated
  using (bucket_id = 'advancing' and private.can_access_advancing_object(name, true));
