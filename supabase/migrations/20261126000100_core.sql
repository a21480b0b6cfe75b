-- =====================================================================================================================
-- oncore core: organizations, members, venues, shows, and the private helpers every policy uses.
--
-- Access model (row-level security on every table):
--   viewer  reads everything of its organization
--   member  also writes venues, shows and advancing sections
--   admin   also manages members, advancing sessions and access codes
--   owner   also deletes the organization and sees billing
-- Helpers live in schema `private` (not exposed by the Data API): security definer, `set search_path = ''`,
-- schema-qualified names. Policies call them with `(select auth.uid())` evaluated once per statement.
-- =====================================================================================================================

-- ---------------------------------------------------------------------------------------------------------------------
-- Schema and privileges
-- ---------------------------------------------------------------------------------------------------------------------
create schema if not exists private;
revoke all on schema private from public;
-- Functions are executable by PUBLIC unless revoked; in `private`, each grant is made by name instead.
alter default privileges in schema private revoke execute on functions from public;
-- Policies run as the requesting role and call private helpers, so that role needs usage (not table access).
grant usage on schema private to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------------
-- Enums
-- ---------------------------------------------------------------------------------------------------------------------
-- Declared from least to most privileged so that `role >= 'admin'` reads as "admin or above".
do $$
begin
  if not exists (select from pg_type where typname = 'org_role' and typnamespace = 'public'::regnamespace) then
    create type public.org_role as enum ('viewer', 'member', 'admin', 'owner');
  end if;
  if not exists (select from pg_type where typname = 'show_status' and typnamespace = 'public'::regnamespace) then
    create type public.show_status as enum ('hold', 'confirmed', 'cancelled');
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- Shared trigger functions
-- ---------------------------------------------------------------------------------------------------------------------

-- Trigger: keeps updated_at current on every update. Not callable directly.
create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end
$$;

-- Raises check_violation (23514, HTTP 400 through PostgREST) with a message that names the field. Used by the
-- validation triggers so that users see "capacity must be >= 0" instead of a constraint name.
create or replace function private.reject(message text, hint text default null)
returns void
language plpgsql
set search_path = ''
as $$
begin
  raise exception using errcode = 'check_violation', message = message, hint = coalesce(hint, '');
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- IANA time zones
-- ---------------------------------------------------------------------------------------------------------------------
-- pg_timezone_names reads the zone files on every scan (milliseconds), so the names are copied once into a table;
-- a name missing from the copy is looked up again in case the server's zone database is newer.
create table if not exists private.time_zones (name text primary key);
insert into private.time_zones (name)
select name from pg_catalog.pg_timezone_names
where name !~ '^(posixrules|Factory|localtime)$'
on conflict do nothing;

-- True if `tz` is an IANA zone name known to the server (e.g. Europe/Berlin). Called by validation triggers.
create or replace function private.is_time_zone(tz text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select from private.time_zones where name = tz)
      or exists (select from pg_catalog.pg_timezone_names where name = tz)
$$;

-- True if `value` parses as a timestamptz with an explicit offset or zone (schedule items are absolute instants).
create or replace function private.is_timestamp(value text)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  perform value::timestamptz;
  return value ~ '(Z|[+-][0-9]{2}(:?[0-9]{2})?)$';
exception when others then
  return false;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- organizations
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists public.organizations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  slug text not null,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint organizations_slug_key unique (slug),
  constraint organizations_name_present check (length(btrim(name)) between 1 and 200),
  constraint organizations_slug_format check (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
);
comment on table public.organizations is 'A touring party (artist, management company): owns venues, shows and advances.';
create index if not exists organizations_created_by_idx on public.organizations (created_by);

-- Trigger: validates an organization's name and slug with messages that say what is expected (renames go through
-- plain UPDATE, so the RPC's checks are not enough).
create or replace function private.validate_organization()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.name is null or pg_catalog.length(pg_catalog.btrim(new.name)) not between 1 and 200 then
    perform private.reject('name must not be empty (at most 200 characters)');
  end if;
  if new.slug is null or new.slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' then
    perform private.reject(pg_catalog.format('slug "%s" must be 1-63 lower-case letters, digits or dashes, '
                                             'starting and ending with a letter or digit', new.slug));
  end if;
  return new;
end
$$;

drop trigger if exists organizations_validate on public.organizations;
create trigger organizations_validate before insert or update on public.organizations
  for each row execute function private.validate_organization();

-- ---------------------------------------------------------------------------------------------------------------------
-- org_members
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists public.org_members (
  org_id uuid not null references public.organizations (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role public.org_role not null default 'member',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, user_id)
);
comment on table public.org_members is 'Who belongs to an organization and with which role.';
-- Policies look members up by user first (which orgs am I in?).
create index if not exists org_members_user_id_idx on public.org_members (user_id, org_id);

-- ---------------------------------------------------------------------------------------------------------------------
-- Membership helpers (used by every policy)
-- ---------------------------------------------------------------------------------------------------------------------

-- The organizations in which the signed-in user holds `min_role` or above. Used by policies as
-- `org_id in (select private.org_ids_with_role('viewer'))`, which runs once per statement, not per row.
-- Callable by any role (it only ever reveals the caller's own memberships).
create or replace function private.org_ids_with_role(min_role public.org_role)
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.org_id from public.org_members m
  where m.user_id = (select auth.uid()) and m.role >= min_role
$$;

-- True if the signed-in user holds `min_role` or above in organization `org`. For RPC bodies and triggers.
create or replace function private.has_org_role(org uuid, min_role public.org_role)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (
    select from public.org_members m
    where m.org_id = org and m.user_id = (select auth.uid()) and m.role >= min_role
  )
$$;

-- Raises insufficient_privilege (42501, HTTP 403) unless the signed-in user holds `min_role` in `org` (the
-- service_role passes).
-- `what` names the action in the message, e.g. 'create an advancing session'.
create or replace function private.require_org_role(org uuid, min_role public.org_role, what text)
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if (select auth.role()) = 'service_role' then
    return;  -- the service key acts for the backend (webhooks, seeding) on any organization
  end if;
  if (select auth.uid()) is null then
    raise exception using errcode = 'insufficient_privilege',
      message = format('you must be signed in to %s', what);
  end if;
  if not private.has_org_role(org, min_role) then
    raise exception using errcode = 'insufficient_privilege',
      message = format('only an organization %s or above can %s', min_role, what);
  end if;
end
$$;

-- True if removing `leaving` as an owner of `org` would leave it without owners. False while the organization or
-- the user is being deleted (the membership then goes with them). Used by the org_members trigger.
create or replace function private.is_last_owner(org uuid, leaving uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select from public.organizations o where o.id = org)
     and exists (select from auth.users u where u.id = leaving)
     and not exists (select from public.org_members m
                     where m.org_id = org and m.role = 'owner' and m.user_id <> leaving)
$$;

-- Trigger on org_members: an organization always keeps at least one owner, and only owners grant or take away the
-- owner role. Runs as the writing role, so `current_user` tells API requests from the service and migrations.
create or replace function private.guard_org_members()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  org uuid := coalesce(old.org_id, new.org_id);
begin
  if current_user in ('authenticated', 'anon')
     and ((tg_op <> 'INSERT' and old.role = 'owner') or (tg_op <> 'DELETE' and new.role = 'owner'))
     and not private.has_org_role(org, 'owner') then
    raise exception using errcode = 'insufficient_privilege',
      message = 'only an owner can grant, change or remove the owner role';
  end if;
  if tg_op in ('UPDATE', 'DELETE') and old.role = 'owner'
     and (tg_op = 'DELETE' or new.role <> 'owner' or new.org_id <> old.org_id)
     and private.is_last_owner(old.org_id, old.user_id) then
    raise exception using errcode = 'check_violation',
      message = 'an organization must keep at least one owner',
      hint = 'make another member owner first';
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

drop trigger if exists org_members_guard on public.org_members;
create trigger org_members_guard
  before insert or update or delete on public.org_members
  for each row execute function private.guard_org_members();

-- ---------------------------------------------------------------------------------------------------------------------
-- venues
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists public.venues (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  name text not null,
  address text,
  postcode text,
  city text,
  region text,
  country char(2),
  timezone text,
  capacity integer,
  venue_type text,
  contacts jsonb not null default '[]'::jsonb,
  notes text,
  external_ref text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint venues_id_org_key unique (id, org_id),
  constraint venues_org_external_ref_key unique (org_id, external_ref),
  constraint venues_name_present check (length(btrim(name)) > 0),
  constraint venues_country_format check (country ~ '^[A-Z]{2}$'),
  constraint venues_capacity_nonnegative check (capacity >= 0),
  constraint venues_contacts_array check (jsonb_typeof(contacts) = 'array')
);
comment on table public.venues is 'Rooms an organization plays: identified by name and city; timezone is IANA.';
comment on column public.venues.country is 'ISO 3166-1 alpha-2, upper case (DE, GB, US).';
comment on column public.venues.timezone is 'IANA time zone name (Europe/Berlin); show times are local to it.';
create index if not exists venues_org_id_idx on public.venues (org_id, name);

-- Trigger: validates a venue with messages that name the field and the expected value.
create or replace function private.validate_venue()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.name is null or pg_catalog.length(pg_catalog.btrim(new.name)) = 0 then
    perform private.reject('venue name must not be empty');
  end if;
  if new.country is not null and new.country !~ '^[A-Z]{2}$' then
    perform private.reject(pg_catalog.format('country "%s" must be an ISO 3166 alpha-2 code in upper case, e.g. DE',
                                             new.country));
  end if;
  if new.timezone is not null and not private.is_time_zone(new.timezone) then
    perform private.reject(pg_catalog.format('timezone "%s" is not an IANA time zone', new.timezone),
                           'use a name such as Europe/Berlin or America/New_York');
  end if;
  if new.capacity < 0 then
    perform private.reject(pg_catalog.format('capacity must be >= 0 (got %s)', new.capacity));
  end if;
  if pg_catalog.jsonb_typeof(new.contacts) is distinct from 'array' then
    perform private.reject('contacts must be a JSON array of {role, name, email, phone}');
  end if;
  return new;
end
$$;

drop trigger if exists venues_validate on public.venues;
create trigger venues_validate before insert or update on public.venues
  for each row execute function private.validate_venue();
drop trigger if exists venues_updated_at on public.venues;
create trigger venues_updated_at before update on public.venues
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------------
-- shows
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists public.shows (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  venue_id uuid,
  date date not null,
  status public.show_status not null default 'hold',
  hold_rank integer,
  title text,
  load_in_at timestamptz,
  doors_at timestamptz,
  set_time_at timestamptz,
  curfew_at timestamptz,
  schedule jsonb not null default '[]'::jsonb,
  contacts jsonb not null default '[]'::jsonb,
  capacity integer,
  currency char(3),
  promoter_email text,
  notes text,
  external_ref text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- A show's venue belongs to the same organization; deleting the venue leaves the show without one.
  constraint shows_venue_fkey foreign key (venue_id, org_id)
    references public.venues (id, org_id) on delete set null (venue_id),
  constraint shows_id_org_key unique (id, org_id),
  constraint shows_org_external_ref_key unique (org_id, external_ref),
  constraint shows_hold_rank_positive check (hold_rank >= 1),
  constraint shows_capacity_nonnegative check (capacity >= 0),
  constraint shows_currency_format check (currency ~ '^[A-Z]{3}$'),
  constraint shows_promoter_email_format check (promoter_email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
  constraint shows_times_in_order check (
    load_in_at <= coalesce(doors_at, set_time_at, curfew_at)
    and doors_at <= coalesce(set_time_at, curfew_at)
    and set_time_at <= curfew_at
  ),
  constraint shows_schedule_array check (jsonb_typeof(schedule) = 'array'),
  constraint shows_contacts_array check (jsonb_typeof(contacts) = 'array')
);
comment on table public.shows is 'One show day of an organization. date is the local show day; *_at are absolute instants.';
comment on column public.shows.schedule is 'Ordered list of {label, at} (at: ISO 8601 instant with offset).';
comment on column public.shows.contacts is 'List of {role, name, email, phone}.';
create index if not exists shows_org_id_date_idx on public.shows (org_id, date);
create index if not exists shows_venue_id_idx on public.shows (venue_id, org_id);

-- Trigger: validates a show with messages that name the field and the expected value.
create or replace function private.validate_show()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  item jsonb;
  previous record;
  times text[] := array['load_in_at', 'doors_at', 'set_time_at', 'curfew_at'];
  values_ timestamptz[] := array[new.load_in_at, new.doors_at, new.set_time_at, new.curfew_at];
  last_name text;
  last_value timestamptz;
begin
  if new.capacity < 0 then
    perform private.reject(pg_catalog.format('capacity must be >= 0 (got %s)', new.capacity));
  end if;
  if new.hold_rank < 1 then
    perform private.reject(pg_catalog.format('hold_rank must be >= 1 (got %s)', new.hold_rank));
  end if;
  if new.currency is not null and new.currency !~ '^[A-Z]{3}$' then
    perform private.reject(pg_catalog.format('currency "%s" must be an ISO 4217 code in upper case, e.g. EUR',
                                             new.currency));
  end if;
  if new.promoter_email is not null
     and new.promoter_email !~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$' then
    perform private.reject(pg_catalog.format('promoter_email "%s" is not an e-mail address', new.promoter_email));
  end if;
  for i in 1 .. 4 loop
    if values_[i] is not null then
      if last_value is not null and values_[i] < last_value then
        perform private.reject(pg_catalog.format('%s (%s) must not be before %s (%s)',
                                                 times[i], values_[i], last_name, last_value),
                               'expected load_in_at <= doors_at <= set_time_at <= curfew_at');
      end if;
      last_name := times[i];
      last_value := values_[i];
    end if;
  end loop;
  if pg_catalog.jsonb_typeof(new.schedule) is distinct from 'array' then
    perform private.reject('schedule must be a JSON array of {label, at}');
  end if;
  for item in select * from pg_catalog.jsonb_array_elements(new.schedule) loop
    if pg_catalog.jsonb_typeof(item) <> 'object' or pg_catalog.jsonb_typeof(item -> 'label') is distinct from 'string' then
      perform private.reject(pg_catalog.format('schedule item %s must be an object with a text "label"', item),
                             'e.g. {"label": "Soundcheck", "at": "2027-03-01T17:00:00+01:00"}');
    end if;
    if item ? 'at' and item -> 'at' <> 'null'::jsonb and not private.is_timestamp(item ->> 'at') then
      perform private.reject(pg_catalog.format('schedule item "%s": at "%s" must be an ISO 8601 time with offset',
                                               item ->> 'label', item ->> 'at'),
                             'e.g. 2027-03-01T17:00:00+01:00');
    end if;
  end loop;
  if pg_catalog.jsonb_typeof(new.contacts) is distinct from 'array' then
    perform private.reject('contacts must be a JSON array of {role, name, email, phone}');
  end if;
  return new;
end
$$;

drop trigger if exists shows_validate on public.shows;
create trigger shows_validate before insert or update on public.shows
  for each row execute function private.validate_show();
drop trigger if exists shows_updated_at on public.shows;
create trigger shows_updated_at before update on public.shows
  for each row execute function private.set_updated_at();
drop trigger if exists organizations_updated_at on public.organizations;
create trigger organizations_updated_at before update on public.organizations
  for each row execute function private.set_updated_at();
drop trigger if exists org_members_updated_at on public.org_members;
create trigger org_members_updated_at before update on public.org_members
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------------
-- Row-level security: one policy per (role, action); anon has none, so it sees nothing.
-- ---------------------------------------------------------------------------------------------------------------------
alter table public.organizations enable row level security;
alter table public.org_members enable row level security;
alter table public.venues enable row level security;
alter table public.shows enable row level security;

-- organizations: members read; admins rename; owners delete; creation goes through create_organization().
create policy organizations_select on public.organizations for select to authenticated
  using (id in (select private.org_ids_with_role('viewer')));
create policy organizations_update on public.organizations for update to authenticated
  using (id in (select private.org_ids_with_role('admin')))
  with check (id in (select private.org_ids_with_role('admin')));
create policy organizations_delete on public.organizations for delete to authenticated
  using (id in (select private.org_ids_with_role('owner')));

-- org_members: members read the roster; admins add, change and remove; anyone may leave (last-owner rule holds).
create policy org_members_select on public.org_members for select to authenticated
  using (org_id in (select private.org_ids_with_role('viewer')));
create policy org_members_insert on public.org_members for insert to authenticated
  with check (org_id in (select private.org_ids_with_role('admin')));
create policy org_members_update on public.org_members for update to authenticated
  using (org_id in (select private.org_ids_with_role('admin')))
  with check (org_id in (select private.org_ids_with_role('admin')));
create policy org_members_delete on public.org_members for delete to authenticated
  using (org_id in (select private.org_ids_with_role('admin')) or user_id = (select auth.uid()));

-- venues and shows: members write, viewers read (venue guests are added in the advancing migration).
create policy venues_select on public.venues for select to authenticated
  using (org_id in (select private.org_ids_with_role('viewer')));
create policy venues_insert on public.venues for insert to authenticated
  with check (org_id in (select private.org_ids_with_role('member')));
create policy venues_update on public.venues for update to authenticated
  using (org_id in (select private.org_ids_with_role('member')))
  with check (org_id in (select private.org_ids_with_role('member')));
create policy venues_delete on public.venues for delete to authenticated
  using (org_id in (select private.org_ids_with_role('member')));

create policy shows_select on public.shows for select to authenticated
  using (org_id in (select private.org_ids_with_role('viewer')));
create policy shows_insert on public.shows for insert to authenticated
  with check (org_id in (select private.org_ids_with_role('member')));
create policy shows_update on public.shows for update to authenticated
  using (org_id in (select private.org_ids_with_role('member')))
  with check (org_id in (select private.org_ids_with_role('member')));
create policy shows_delete on public.shows for delete to authenticated
  using (org_id in (select private.org_ids_with_role('member')));

-- ---------------------------------------------------------------------------------------------------------------------
-- Function privileges: closed by default, granted by name.
-- ---------------------------------------------------------------------------------------------------------------------
revoke all on all functions in schema private from public, anon, authenticated;
revoke all on all tables in schema private from public, anon, authenticated;
-- Policies evaluate these as the requesting role.
grant execute on function private.org_ids_with_role(public.org_role) to authenticated, service_role;
grant execute on function private.has_org_role(uuid, public.org_role) to authenticated, service_role;
grant execute on function private.require_org_role(uuid, public.org_role, text) to authenticated, service_role;
grant execute on function private.is_last_owner(uuid, uuid) to authenticated, service_role;
-- Validation triggers run as the writing role.
grant execute on function private.reject(text, text) to authenticated, service_role;
grant execute on function private.is_time_zone(text), private.is_timestamp(text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------------
-- RPC: create_organization(name, slug)
-- ---------------------------------------------------------------------------------------------------------------------

-- Inserts the organization and makes the signed-in user its owner in one step (privileged: no membership exists yet).
-- Called only by public.create_organization.
create or replace function private.create_organization(org_name text, org_slug text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
  owner uuid := (select auth.uid());
  new_id uuid;
begin
  if owner is null or exists (select from auth.users u where u.id = owner and u.is_anonymous) then
    raise exception using errcode = 'insufficient_privilege',
      message = 'sign in with an account (not as a venue guest) to create an organization';
  end if;
  begin
    insert into public.organizations (name, slug, created_by) values (org_name, org_slug, owner)
    returning id into new_id;
  exception when unique_violation then
    raise exception using errcode = 'unique_violation',
      message = pg_catalog.format('slug "%s" is already taken', org_slug),
      hint = 'choose another slug';
  end;
  perform pg_catalog.set_config('oncore.action', 'create_organization', true);
  insert into public.org_members (org_id, user_id, role) values (new_id, owner, 'owner');
  perform pg_catalog.set_config('oncore.action', '', true);
  return new_id;
end
$$;

-- Creates an organization with the caller as its owner, atomically. Any signed-in (non-anonymous) user may call it.
-- Errors: 42501 when not signed in or anonymous; 22023 for a bad name or slug; 23505 when the slug is taken.
create or replace function public.create_organization(name text, slug text)
returns public.organizations
language plpgsql
security invoker
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  new_id uuid;
  result public.organizations;
begin
  if caller is null or coalesce(((select auth.jwt()) ->> 'is_anonymous')::boolean, false) then
    raise exception using errcode = 'insufficient_privilege',
      message = 'sign in with an account (not as a venue guest) to create an organization';
  end if;
  if name is null or pg_catalog.length(pg_catalog.btrim(name)) = 0 then
    raise exception using errcode = 'invalid_parameter_value', message = 'name must not be empty';
  end if;
  if slug is null or slug !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$' then
    raise exception using errcode = 'invalid_parameter_value',
      message = pg_catalog.format('slug "%s" must be 1-63 lower-case letters, digits or dashes, '
                                  'starting and ending with a letter or digit', slug);
  end if;
  new_id := private.create_organization(pg_catalog.btrim(name), slug);
  select * into result from public.organizations o where o.id = new_id;
  return result;
end
$$;
revoke all on function private.create_organization(text, text) from public, anon, authenticated;
grant execute on function private.create_organization(text, text) to authenticated;
revoke all on function public.create_organization(text, text) from public, anon;
grant execute on function public.create_organization(text, text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------------
-- RPC: members
-- ---------------------------------------------------------------------------------------------------------------------

-- The user id for an e-mail address, for an admin adding that user to `org` (auth.users is not readable by the API
-- roles). Raises 42501 unless the caller is an admin or owner of `org`; PT404 (HTTP 404) if no user has the address.
create or replace function private.user_id_for_member_email(org uuid, address text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  found_id uuid;
begin
  perform private.require_org_role(org, 'admin', 'add members');
  select u.id into found_id from auth.users u
  where pg_catalog.lower(u.email) = pg_catalog.lower(pg_catalog.btrim(address)) and not u.is_anonymous
  order by u.created_at limit 1;
  if found_id is null then
    raise exception using errcode = 'PT404',
      message = pg_catalog.format('no user with e-mail %s', address),
      hint = 'they must sign up first';
  end if;
  return found_id;
end
$$;

-- The members of `org` with their e-mail addresses. Raises PT404 unless the caller is a member of `org`.
create or replace function private.org_member_list(org uuid)
returns table (user_id uuid, email text, role public.org_role, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not private.has_org_role(org, 'viewer') then
    raise exception using errcode = 'PT404', message = pg_catalog.format('organization %s not found', org);
  end if;
  return query
    select m.user_id, u.email::text, m.role, m.created_at
    from public.org_members m join auth.users u on u.id = m.user_id
    where m.org_id = org
    order by m.role desc, u.email;
end
$$;
revoke all on function private.user_id_for_member_email(uuid, text), private.org_member_list(uuid)
  from public, anon, authenticated;
grant execute on function private.user_id_for_member_email(uuid, text), private.org_member_list(uuid)
  to authenticated, service_role;

-- Adds the user with e-mail `email` to `org_id` with `role`. Admins and owners may call it; only owners may add an
-- owner. Errors: PT404 "no user with e-mail x"; 23505 if already a member; 42501 if not allowed.
create or replace function public.add_org_member(org_id uuid, email text, role public.org_role default 'member')
returns public.org_members
language plpgsql
security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  new_user uuid := private.user_id_for_member_email(add_org_member.org_id, add_org_member.email);
  result public.org_members;
begin
  if exists (select from public.org_members m
             where m.org_id = add_org_member.org_id and m.user_id = new_user) then
    raise exception using errcode = 'unique_violation',
      message = pg_catalog.format('%s is already a member of this organization', add_org_member.email),
      hint = 'change their role instead';
  end if;
  insert into public.org_members (org_id, user_id, role)
  values (add_org_member.org_id, new_user, coalesce(add_org_member.role, 'member'))
  returning * into result;
  return result;
end
$$;

-- Lists the members of `org_id` (user_id, email, role, created_at). Any member may call it.
create or replace function public.list_org_members(org_id uuid)
returns table (user_id uuid, email text, role public.org_role, created_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
  select * from private.org_member_list(org_id)
$$;

-- Changes the role of `user_id` in `org_id`. Admins and owners may call it; only owners grant or take away the owner
-- role, and the last owner cannot be demoted. Errors: PT404 if that user is not a member; 42501; 23514.
create or replace function public.set_org_member_role(org_id uuid, user_id uuid, role public.org_role)
returns public.org_members
language plpgsql
security invoker
set search_path = ''
as $$
#variable_conflict use_column
declare
  result public.org_members;
begin
  perform private.require_org_role(set_org_member_role.org_id, 'admin', 'change member roles');
  if set_org_member_role.role is null then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'role must be one of owner, admin, member, viewer';
  end if;
  update public.org_members m set role = set_org_member_role.role
  where m.org_id = set_org_member_role.org_id and m.user_id = set_org_member_role.user_id
  returning * into result;
  if result is null then
    raise exception using errcode = 'PT404',
      message = pg_catalog.format('user %s is not a member of this organization', set_org_member_role.user_id);
  end if;
  return result;
end
$$;

-- Removes `user_id` from `org_id`. Admins and owners may remove anyone (only owners remove an owner); any member
-- may remove themselves. The last owner cannot leave. Errors: PT404 if not a member; 42501; 23514.
create or replace function public.remove_org_member(org_id uuid, user_id uuid)
returns void
language plpgsql
security invoker
set search_path = ''
as $$
#variable_conflict use_column
begin
  if remove_org_member.user_id is distinct from (select auth.uid()) then
    perform private.require_org_role(remove_org_member.org_id, 'admin', 'remove members');
  end if;
  delete from public.org_members m
  where m.org_id = remove_org_member.org_id and m.user_id = remove_org_member.user_id;
  if not found then
    raise exception using errcode = 'PT404',
      message = pg_catalog.format('user %s is not a member of this organization', remove_org_member.user_id);
  end if;
end
$$;

revoke all on function public.add_org_member(uuid, text, public.org_role), public.list_org_members(uuid),
  public.set_org_member_role(uuid, uuid, public.org_role), public.remove_org_member(uuid, uuid) from public, anon;
grant execute on function public.add_org_member(uuid, text, public.org_role), public.list_org_members(uuid),
  public.set_org_member_role(uuid, uuid, public.org_role), public.remove_org_member(uuid, uuid)
  to authenticated, service_role;
