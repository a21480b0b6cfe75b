-- =====================================================================================================================
-- oncore activity log and billing.
--
-- activity_log is append-only: rows are written by triggers and RPCs through a security definer helper (so the actor
-- cannot be forged), never updated or deleted by any API role. subscriptions mirrors Stripe state per organization:
-- owners read it; only service_role (the Stripe webhook) writes it.
-- =====================================================================================================================

-- ---------------------------------------------------------------------------------------------------------------------
-- activity_log
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists public.activity_log (
  id bigint generated always as identity primary key,
  org_id uuid not null references public.organizations (id) on delete cascade,
  session_id uuid references public.advancing_sessions (id) on delete set null,
  actor_id uuid references auth.users (id) on delete set null,
  actor_kind text not null,
  action text not null,
  entity text not null,
  entity_id uuid,
  changes jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint activity_log_actor_kind_check check (actor_kind in ('member', 'venue_guest', 'service')),
  constraint activity_log_changes_object check (jsonb_typeof(changes) = 'object')
);
comment on table public.activity_log is
  'Append-only history: who (actor, actor_kind) did what (action) to which row (entity, entity_id); '
  'changes maps each changed field to {old, new}.';
create index if not exists activity_log_org_id_idx on public.activity_log (org_id, created_at desc);
create index if not exists activity_log_session_id_idx on public.activity_log (session_id, created_at desc);
create index if not exists activity_log_actor_id_idx on public.activity_log (actor_id);

-- ---------------------------------------------------------------------------------------------------------------------
-- Writing history
-- ---------------------------------------------------------------------------------------------------------------------

-- Appends one entry for the signed-in user: actor_kind is 'service' for the service key (or no user), 'member' for a
-- member of `org`, else 'venue_guest'. Skips silently when `org` is being deleted (its history goes with it).
-- Called by triggers and security definer helpers only.
create or replace function private.log_activity(org uuid, session uuid, action text, entity text, entity_id uuid,
                                                changes jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  actor uuid := (select auth.uid());
begin
  if not exists (select from public.organizations o where o.id = org) then
    return;
  end if;
  if session is not null and not exists (select from public.advancing_sessions s where s.id = session) then
    session := null;
  end if;
  insert into public.activity_log (org_id, session_id, actor_id, actor_kind, action, entity, entity_id, changes)
  values (
    org, session,
    case when exists (select from auth.users u where u.id = actor) then actor end,
    case
      when actor is null or (select auth.role()) = 'service_role' then 'service'
      when exists (select from public.org_members m where m.org_id = org and m.user_id = actor) then 'member'
      else 'venue_guest'
    end,
    action, entity, entity_id, coalesce(changes, '{}'::jsonb));
end
$$;

-- Trigger: logs a row change with the changed fields as {field: {old, new}} (inserts: the fields set; deletes: the
-- fields removed). The action is the RPC that made the change when it says so (setting `oncore.action`), else the
-- operation (insert, update, delete). Updates that change nothing but timestamps are not logged.
create or replace function private.log_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  old_row jsonb := case when tg_op <> 'INSERT' then pg_catalog.to_jsonb(old) end;
  new_row jsonb := case when tg_op <> 'DELETE' then pg_catalog.to_jsonb(new) end;
  row_ jsonb := coalesce(new_row, old_row);
  diff jsonb;
begin
  select pg_catalog.jsonb_object_agg(k, pg_catalog.jsonb_build_object('old', old_row -> k, 'new', new_row -> k))
  into diff
  from pg_catalog.jsonb_object_keys(row_) k
  where k not in ('id', 'org_id', 'created_at', 'updated_at', 'updated_by')
    and coalesce(old_row -> k, 'null'::jsonb) <> coalesce(new_row -> k, 'null'::jsonb);
  if tg_op = 'UPDATE' and diff is null then
    return null;
  end if;
  perform private.log_activity(
    case tg_table_name when 'organizations' then (row_ ->> 'id')::uuid else (row_ ->> 'org_id')::uuid end,
    case tg_table_name when 'advancing_sessions' then (row_ ->> 'id')::uuid else (row_ ->> 'session_id')::uuid end,
    coalesce(nullif(pg_catalog.current_setting('oncore.action', true), ''), pg_catalog.lower(tg_op)),
    tg_table_name,
    coalesce(row_ ->> 'id', row_ ->> 'user_id')::uuid,
    coalesce(diff, '{}'::jsonb));
  return null;
end
$$;
revoke all on function private.log_activity(uuid, uuid, text, text, uuid, jsonb), private.log_change()
  from public, anon, authenticated;

-- Sections are created empty with their session, so only their updates are history. An organization's creation is
-- logged by its owner's membership row (action create_organization); its deletion takes its history with it.
do $$
declare
  t text;
begin
  execute 'drop trigger if exists organizations_log on public.organizations';
  execute 'create trigger organizations_log after update on public.organizations '
          'for each row execute function private.log_change()';
  foreach t in array array['org_members', 'venues', 'shows', 'advancing_sessions'] loop
    execute format('drop trigger if exists %I on public.%I', t || '_log', t);
    execute format('create trigger %I after insert or update or delete on public.%I '
                   'for each row execute function private.log_change()', t || '_log', t);
  end loop;
  foreach t in array array['hospitality', 'technical', 'production'] loop
    execute format('drop trigger if exists %I on public.%I', t || '_log', t);
    execute format('create trigger %I after update on public.%I '
                   'for each row execute function private.log_change()', t || '_log', t);
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- subscriptions
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists public.subscriptions (
  org_id uuid primary key references public.organizations (id) on delete cascade,
  stripe_customer_id text,
  stripe_subscription_id text,
  status text,
  plan text,
  current_period_end timestamptz,
  updated_at timestamptz not null default now(),
  constraint subscriptions_stripe_customer_id_key unique (stripe_customer_id),
  constraint subscriptions_stripe_subscription_id_key unique (stripe_subscription_id)
);
comment on table public.subscriptions is 'Stripe subscription state per organization; written only by service_role.';

drop trigger if exists subscriptions_updated_at on public.subscriptions;
create trigger subscriptions_updated_at before update on public.subscriptions
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------------
-- Row-level security and privileges
-- ---------------------------------------------------------------------------------------------------------------------
alter table public.activity_log enable row level security;
alter table public.subscriptions enable row level security;

-- Viewers read their organization's history; a venue guest reads its session's.
create policy activity_log_select on public.activity_log for select to authenticated
  using (org_id in (select private.org_ids_with_role('viewer')) or session_id in (select private.guest_session_ids()));
-- No insert/update/delete policy, and no privilege either: history is written by private.log_activity() only.
revoke insert, update, delete, truncate on public.activity_log from public, anon, authenticated, service_role;

-- Owners see billing.
create policy subscriptions_select on public.subscriptions for select to authenticated
  using (org_id in (select private.org_ids_with_role('owner')));
revoke insert, update, delete, truncate on public.subscriptions from public, anon, authenticated;
