-- =====================================================================================================================
-- oncore advancing: sessions, their three sections (hospitality, technical, production), venue guests and access
-- codes.
--
-- An advancing session belongs to one show. Venue staff have no account: they sign in anonymously, then
-- claim_access_code(code) admits that user to one session (a row in advancing_guests that expires with the code).
-- A venue guest reads its session (and the show and venue it is for) and writes only that session's sections.
-- Access codes are stored only as sha256 hashes in a private table; rotating a code ends every guest's admission.
-- =====================================================================================================================

-- ---------------------------------------------------------------------------------------------------------------------
-- Enums
-- ---------------------------------------------------------------------------------------------------------------------
do $$
begin
  if not exists (select from pg_type where typname = 'advancing_status' and typnamespace = 'public'::regnamespace) then
    create type public.advancing_status as enum ('draft', 'sent', 'in_progress', 'confirmed');
  end if;
  if not exists (select from pg_type where typname = 'section_status' and typnamespace = 'public'::regnamespace) then
    create type public.section_status as enum ('open', 'submitted', 'confirmed');
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- advancing_sessions
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists public.advancing_sessions (
  id uuid primary key default gen_random_uuid(),
  org_id uuid not null references public.organizations (id) on delete cascade,
  show_id uuid not null,
  status public.advancing_status not null default 'draft',
  title text,
  code_expires_at timestamptz,
  code_rotated_at timestamptz,
  created_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint advancing_sessions_show_fkey foreign key (show_id, org_id)
    references public.shows (id, org_id) on delete cascade,
  constraint advancing_sessions_id_org_key unique (id, org_id)
);
comment on table public.advancing_sessions is
  'One advance of a show with the venue. The access code itself is never stored; see claim_access_code().';
create index if not exists advancing_sessions_org_id_idx on public.advancing_sessions (org_id, created_at);
create index if not exists advancing_sessions_show_id_idx on public.advancing_sessions (show_id, org_id);
create index if not exists advancing_sessions_created_by_idx on public.advancing_sessions (created_by);

-- Hashes of the current access code of each session (sha256 of the normalised code). Only security definer
-- functions read it, so no API role can fetch a hash to guess codes offline.
create table if not exists private.access_codes (
  session_id uuid primary key references public.advancing_sessions (id) on delete cascade,
  code_hash bytea not null,
  expires_at timestamptz not null,
  constraint access_codes_code_hash_key unique (code_hash)
);

-- Failed code attempts per user, for the "more than 5 wrong codes a minute" throttle.
create table if not exists private.code_attempts (
  id bigint generated always as identity primary key,
  user_id uuid not null,
  attempted_at timestamptz not null default clock_timestamp()
);
create index if not exists code_attempts_user_id_idx on private.code_attempts (user_id, attempted_at);

-- ---------------------------------------------------------------------------------------------------------------------
-- advancing_guests
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists public.advancing_guests (
  session_id uuid not null,
  user_id uuid not null references auth.users (id) on delete cascade,
  org_id uuid not null references public.organizations (id) on delete cascade,
  expires_at timestamptz not null,
  created_at timestamptz not null default now(),
  primary key (session_id, user_id),
  constraint advancing_guests_session_fkey foreign key (session_id, org_id)
    references public.advancing_sessions (id, org_id) on delete cascade
);
comment on table public.advancing_guests is 'Venue-side (anonymous) users admitted to one session by its access code.';
create index if not exists advancing_guests_user_id_idx on public.advancing_guests (user_id, session_id, expires_at);
create index if not exists advancing_guests_org_id_idx on public.advancing_guests (org_id);
create index if not exists advancing_guests_session_org_idx on public.advancing_guests (session_id, org_id);

-- ---------------------------------------------------------------------------------------------------------------------
-- Sections: one row each per session. Typed columns where users filter, jsonb for lists and nested detail.
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists public.hospitality (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null,
  org_id uuid not null references public.organizations (id) on delete cascade,
  status public.section_status not null default 'open',
  guest_count integer,
  guest_list jsonb not null default '[]'::jsonb,
  catering jsonb not null default '{}'::jsonb,
  dressing_rooms jsonb not null default '[]'::jsonb,
  hotel jsonb not null default '{}'::jsonb,
  rider_items jsonb not null default '[]'::jsonb,
  towels jsonb not null default '{}'::jsonb,
  water jsonb not null default '{}'::jsonb,
  notes text,
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now(),
  constraint hospitality_session_id_key unique (session_id),
  constraint hospitality_session_fkey foreign key (session_id, org_id)
    references public.advancing_sessions (id, org_id) on delete cascade,
  constraint hospitality_guest_count_nonnegative check (guest_count >= 0)
);
comment on table public.hospitality is 'Guest list, catering, dressing rooms, hotel, rider items, towels, water.';
comment on column public.hospitality.guest_list is 'List of {name, plus_ones, affiliation, pass_type, status}.';

create table if not exists public.technical (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null,
  org_id uuid not null references public.organizations (id) on delete cascade,
  status public.section_status not null default 'open',
  stage jsonb not null default '{}'::jsonb,
  pa jsonb not null default '{}'::jsonb,
  monitors jsonb not null default '{}'::jsonb,
  consoles jsonb not null default '{}'::jsonb,
  backline jsonb not null default '[]'::jsonb,
  power jsonb not null default '{}'::jsonb,
  rigging jsonb not null default '{}'::jsonb,
  lighting jsonb not null default '{}'::jsonb,
  documents jsonb not null default '[]'::jsonb,
  notes text,
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now(),
  constraint technical_session_id_key unique (session_id),
  constraint technical_session_fkey foreign key (session_id, org_id)
    references public.advancing_sessions (id, org_id) on delete cascade
);
comment on table public.technical is 'Stage, PA, monitors, consoles, backline, power, rigging, lighting, documents.';

create table if not exists public.production (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null,
  org_id uuid not null references public.organizations (id) on delete cascade,
  status public.section_status not null default 'open',
  crew_calls jsonb not null default '[]'::jsonb,
  local_crew jsonb not null default '[]'::jsonb,
  runners jsonb not null default '{}'::jsonb,
  security jsonb not null default '{}'::jsonb,
  merch jsonb not null default '{}'::jsonb,
  settlement jsonb not null default '{}'::jsonb,
  parking jsonb not null default '{}'::jsonb,
  notes text,
  updated_by uuid references auth.users (id) on delete set null,
  updated_at timestamptz not null default now(),
  constraint production_session_id_key unique (session_id),
  constraint production_session_fkey foreign key (session_id, org_id)
    references public.advancing_sessions (id, org_id) on delete cascade
);
comment on table public.production is 'Crew calls, local crew, runners, security, merch, settlement, parking.';

create index if not exists hospitality_org_id_idx on public.hospitality (org_id);
create index if not exists hospitality_session_org_idx on public.hospitality (session_id, org_id);
create index if not exists hospitality_updated_by_idx on public.hospitality (updated_by);
create index if not exists technical_org_id_idx on public.technical (org_id);
create index if not exists technical_session_org_idx on public.technical (session_id, org_id);
create index if not exists technical_updated_by_idx on public.technical (updated_by);
create index if not exists production_org_id_idx on public.production (org_id);
create index if not exists production_session_org_idx on public.production (session_id, org_id);
create index if not exists production_updated_by_idx on public.production (updated_by);

-- Realtime sends old values of section rows (field-level diffs in `oncore tail`).
alter table public.hospitality replica identity full;
alter table public.technical replica identity full;
alter table public.production replica identity full;

-- ---------------------------------------------------------------------------------------------------------------------
-- Guest helpers (used by policies)
-- ---------------------------------------------------------------------------------------------------------------------

-- Sessions the signed-in user is admitted to as a venue guest, while the admission lasts. Any role may call it.
create or replace function private.guest_session_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select g.session_id from public.advancing_guests g
  where g.user_id = (select auth.uid()) and g.expires_at > pg_catalog.now()
$$;

-- Shows of the sessions the signed-in user is a venue guest of (the advance sheet needs the show).
create or replace function private.guest_show_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select s.show_id from public.advancing_sessions s
  where s.id in (select private.guest_session_ids())
$$;

-- Venues of the shows the signed-in user is a venue guest of (the advance sheet needs the venue).
create or replace function private.guest_venue_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select sh.venue_id from public.shows sh
  where sh.id in (select private.guest_show_ids()) and sh.venue_id is not null
$$;

revoke all on function private.guest_session_ids(), private.guest_show_ids(), private.guest_venue_ids()
  from public, anon;
grant execute on function private.guest_session_ids(), private.guest_show_ids(), private.guest_venue_ids()
  to authenticated, service_role;

-- Trigger on section rows: stamps updated_at/updated_by, keeps a row on its session, and lets only organization
-- members (not venue guests) mark a section confirmed.
create or replace function private.guard_section()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and (new.session_id <> old.session_id or new.org_id <> old.org_id) then
    raise exception using errcode = 'check_violation',
      message = pg_catalog.format('%s: session_id and org_id cannot change', tg_table_name);
  end if;
  if current_user in ('authenticated', 'anon') and new.status = 'confirmed'
     and (tg_op = 'INSERT' or old.status <> 'confirmed')
     and not private.has_org_role(new.org_id, 'member') then
    raise exception using errcode = 'insufficient_privilege',
      message = pg_catalog.format('only an organization member can confirm the %s section', tg_table_name),
      hint = 'submit it instead (status "submitted")';
  end if;
  new.updated_at := pg_catalog.now();
  new.updated_by := coalesce((select auth.uid()), new.updated_by);
  return new;
end
$$;
revoke all on function private.guard_section() from public, anon, authenticated;

drop trigger if exists hospitality_guard on public.hospitality;
create trigger hospitality_guard before insert or update on public.hospitality
  for each row execute function private.guard_section();
drop trigger if exists technical_guard on public.technical;
create trigger technical_guard before insert or update on public.technical
  for each row execute function private.guard_section();
drop trigger if exists production_guard on public.production;
create trigger production_guard before insert or update on public.production
  for each row execute function private.guard_section();
drop trigger if exists advancing_sessions_updated_at on public.advancing_sessions;
create trigger advancing_sessions_updated_at before update on public.advancing_sessions
  for each row execute function private.set_updated_at();

-- ---------------------------------------------------------------------------------------------------------------------
-- Row-level security
-- ---------------------------------------------------------------------------------------------------------------------
alter table public.advancing_sessions enable row level security;
alter table public.advancing_guests enable row level security;
alter table public.hospitality enable row level security;
alter table public.technical enable row level security;
alter table public.production enable row level security;
alter table private.access_codes enable row level security;
alter table private.code_attempts enable row level security;
revoke all on private.access_codes, private.code_attempts from public, anon, authenticated;

-- A venue guest also reads the show and venue of its session (the advance sheet shows them).
alter policy shows_select on public.shows
  using (org_id in (select private.org_ids_with_role('viewer')) or id in (select private.guest_show_ids()));
alter policy venues_select on public.venues
  using (org_id in (select private.org_ids_with_role('viewer')) or id in (select private.guest_venue_ids()));

-- Sessions: viewers and the session's guests read; admins create, change and delete.
create policy advancing_sessions_select on public.advancing_sessions for select to authenticated
  using (org_id in (select private.org_ids_with_role('viewer')) or id in (select private.guest_session_ids()));
create policy advancing_sessions_insert on public.advancing_sessions for insert to authenticated
  with check (org_id in (select private.org_ids_with_role('admin')));
create policy advancing_sessions_update on public.advancing_sessions for update to authenticated
  using (org_id in (select private.org_ids_with_role('admin')))
  with check (org_id in (select private.org_ids_with_role('admin')));
create policy advancing_sessions_delete on public.advancing_sessions for delete to authenticated
  using (org_id in (select private.org_ids_with_role('admin')));

-- Guests: admins see and manage every admission; a guest sees its own. Admission itself is claim_access_code().
create policy advancing_guests_select on public.advancing_guests for select to authenticated
  using (org_id in (select private.org_ids_with_role('admin')) or user_id = (select auth.uid()));
create policy advancing_guests_insert on public.advancing_guests for insert to authenticated
  with check (org_id in (select private.org_ids_with_role('admin')));
create policy advancing_guests_update on public.advancing_guests for update to authenticated
  using (org_id in (select private.org_ids_with_role('admin')))
  with check (org_id in (select private.org_ids_with_role('admin')));
create policy advancing_guests_delete on public.advancing_guests for delete to authenticated
  using (org_id in (select private.org_ids_with_role('admin')));

-- Sections: viewers and the session's guests read; members and guests write; rows come and go with the session
-- (admins).
create policy hospitality_select on public.hospitality for select to authenticated
  using (org_id in (select private.org_ids_with_role('viewer')) or session_id in (select private.guest_session_ids()));
create policy hospitality_insert on public.hospitality for insert to authenticated
  with check (org_id in (select private.org_ids_with_role('admin')));
create policy hospitality_update on public.hospitality for update to authenticated
  using (org_id in (select private.org_ids_with_role('member')) or session_id in (select private.guest_session_ids()))
  with check (org_id in (select private.org_ids_with_role('member')) or session_id in (select private.guest_session_ids()));
create policy hospitality_delete on public.hospitality for delete to authenticated
  using (org_id in (select private.org_ids_with_role('admin')));

create policy technical_select on public.technical for select to authenticated
  using (org_id in (select private.org_ids_with_role('viewer')) or session_id in (select private.guest_session_ids()));
create policy technical_insert on public.technical for insert to authenticated
  with check (org_id in (select private.org_ids_with_role('admin')));
create policy technical_update on public.technical for update to authenticated
  using (org_id in (select private.org_ids_with_role('member')) or session_id in (select private.guest_session_ids()))
  with check (org_id in (select private.org_ids_with_role('member')) or session_id in (select private.guest_session_ids()));
create policy technical_delete on public.technical for delete to authenticated
  using (org_id in (select private.org_ids_with_role('admin')));

create policy production_select on public.production for select to authenticated
  using (org_id in (select private.org_ids_with_role('viewer')) or session_id in (select private.guest_session_ids()));
create policy production_insert on public.production for insert to authenticated
  with check (org_id in (select private.org_ids_with_role('admin')));
create policy production_update on public.production for update to authenticated
  using (org_id in (select private.org_ids_with_role('member')) or session_id in (select private.guest_session_ids()))
  with check (org_id in (select private.org_ids_with_role('member')) or session_id in (select private.guest_session_ids()));
create policy production_delete on public.production for delete to authenticated
  using (org_id in (select private.org_ids_with_role('admin')));

-- ---------------------------------------------------------------------------------------------------------------------
-- Access codes
-- ---------------------------------------------------------------------------------------------------------------------

-- A new plaintext access code: 12 symbols from a 31-symbol alphabet without 0/O/1/I/L (59 bits), shown as
-- XXXX-XXXX-XXXX. Randomness comes from gen_random_uuid() (the server's strong random source); bytes >= 248 are
-- skipped so every symbol is equally likely. Internal; called by private.issue_access_code.
create or replace function private.generate_access_code()
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  alphabet constant text := 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  raw bytea;
  b integer;
  code text := '';
begin
  while pg_catalog.length(code) < 12 loop
    raw := pg_catalog.uuid_send(pg_catalog.gen_random_uuid());
    for i in 0 .. 15 loop
      continue when i in (6, 8);  -- version and variant bits are fixed
      b := pg_catalog.get_byte(raw, i);
      continue when b >= 248;     -- 248 = 8 * 31: keeps the distribution uniform
      code := code || pg_catalog.substr(alphabet, b % 31 + 1, 1);
      exit when pg_catalog.length(code) = 12;
    end loop;
  end loop;
  return pg_catalog.substr(code, 1, 4) || '-' || pg_catalog.substr(code, 5, 4) || '-' || pg_catalog.substr(code, 9, 4);
end
$$;

-- The stored form of a code: sha256 of its symbols in upper case, ignoring dashes, spaces and other separators, so
-- "abcd efgh jkmn" and "ABCD-EFGH-JKMN" are the same code.
create or replace function private.hash_access_code(code text)
returns bytea
language sql
immutable
set search_path = ''
as $$
  select pg_catalog.sha256(pg_catalog.convert_to(
    pg_catalog.upper(pg_catalog.regexp_replace(coalesce(code, ''), '[^A-Za-z0-9]', '', 'g')), 'UTF8'))
$$;

-- Gives `session` a fresh access code expiring at `expires`, replacing any previous one. Returns the plaintext code,
-- which exists only in this result. The caller must be an admin or owner of the session's organization (checked
-- here). Called by create_advancing_session and rotate_access_code.
create or replace function private.issue_access_code(session uuid, expires timestamptz)
returns text
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  org uuid;
  code text;
begin
  select s.org_id into org from public.advancing_sessions s where s.id = session;
  perform private.require_org_role(org, 'admin', 'issue access codes');
  for attempt in 1 .. 5 loop
    code := private.generate_access_code();
    begin
      insert into private.access_codes (session_id, code_hash, expires_at)
      values (session, private.hash_access_code(code), expires)
      on conflict on constraint access_codes_pkey
      do update set code_hash = excluded.code_hash, expires_at = excluded.expires_at;
      return code;
    exception when unique_violation then
      -- Another session holds the same code (about 1 in 2^59 per pair): draw again.
      if attempt = 5 then
        raise;
      end if;
    end;
  end loop;
end
$$;

-- Checks `code` for the signed-in user, throttled: refuses (PT429) once the user has entered 5 wrong codes within a
-- minute; records each wrong code. With `admit`, also admits the user to the session as a venue guest until the code
-- expires. Returns {ok: true, session_id, org_id, show_id, expires_at} or {ok: false, reason: invalid|expired}.
-- Called by claim_access_code and verify_access_code.
create or replace function private.try_access_code(code text, admit boolean)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  caller uuid := (select auth.uid());
  hit record;
begin
  if caller is null then
    raise exception using errcode = 'insufficient_privilege',
      message = 'sign in (anonymous sign-in is enough) before using an access code';
  end if;
  if (select pg_catalog.count(*) from private.code_attempts a
      where a.user_id = caller and a.attempted_at > pg_catalog.clock_timestamp() - interval '1 minute') >= 5 then
    raise exception using errcode = 'PT429',
      message = 'too many attempts: 5 wrong access codes in the last minute',
      hint = 'wait a minute, then check the code with the tour and try again';
  end if;
  select ac.session_id, ac.expires_at, s.org_id, s.show_id into hit
  from private.access_codes ac join public.advancing_sessions s on s.id = ac.session_id
  where ac.code_hash = private.hash_access_code(code);
  if hit.session_id is null or hit.expires_at <= pg_catalog.now() then
    delete from private.code_attempts a
    where a.user_id = caller and a.attempted_at < pg_catalog.clock_timestamp() - interval '1 hour';
    insert into private.code_attempts (user_id) values (caller);
    return pg_catalog.jsonb_build_object('ok', false,
      'reason', case when hit.session_id is null then 'invalid' else 'expired' end);
  end if;
  if admit then
    insert into public.advancing_guests (session_id, user_id, org_id, expires_at)
    values (hit.session_id, caller, hit.org_id, hit.expires_at)
    on conflict on constraint advancing_guests_pkey do update set expires_at = excluded.expires_at;
    perform private.log_activity(hit.org_id, hit.session_id, 'claim_access_code', 'advancing_guests',
                                 hit.session_id, '{}'::jsonb);
  end if;
  return pg_catalog.jsonb_build_object('ok', true, 'session_id', hit.session_id, 'org_id', hit.org_id,
                                       'show_id', hit.show_id, 'expires_at', hit.expires_at);
end
$$;

-- The show basics a venue sees before claiming a code: organization name, show date/title, venue name/city.
-- Only called by verify_access_code after the code was checked.
create or replace function private.session_preview(session uuid)
returns jsonb
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.jsonb_build_object(
    'organization', pg_catalog.jsonb_build_object('name', o.name),
    'show', pg_catalog.jsonb_build_object('id', sh.id, 'date', sh.date, 'title', sh.title),
    'venue', case when v.id is null then null
                  else pg_catalog.jsonb_build_object('name', v.name, 'city', v.city, 'country', v.country) end)
  from public.advancing_sessions s
  join public.organizations o on o.id = s.org_id
  join public.shows sh on sh.id = s.show_id
  left join public.venues v on v.id = sh.venue_id
  where s.id = session
$$;

-- The organization's name for the advance sheet of `session`, which a venue guest may see although it cannot read
-- the organizations table. Returns null unless the caller can read the session.
create or replace function private.session_org_name(session uuid)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select o.name from public.advancing_sessions s join public.organizations o on o.id = s.org_id
  where s.id = session
    and (s.org_id in (select private.org_ids_with_role('viewer')) or s.id in (select private.guest_session_ids()))
$$;

revoke all on function private.generate_access_code(), private.hash_access_code(text),
  private.issue_access_code(uuid, timestamptz), private.try_access_code(text, boolean),
  private.session_preview(uuid), private.session_org_name(uuid) from public, anon, authenticated;
grant execute on function private.issue_access_code(uuid, timestamptz), private.try_access_code(text, boolean),
  private.session_preview(uuid), private.session_org_name(uuid) to authenticated, service_role;

-- Sets the PostgREST response status for an error that must not roll back (a wrong code is recorded for the
-- throttle), and returns a body shaped like a PostgREST error so clients raise it as one.
create or replace function private.soft_error(status integer, code text, message text, hint text)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
begin
  perform pg_catalog.set_config('response.status', status::text, true);
  return pg_catalog.jsonb_build_object('code', code, 'message', message, 'details', null, 'hint', hint);
end
$$;
revoke all on function private.soft_error(integer, text, text, text) from public, anon;
grant execute on function private.soft_error(integer, text, text, text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------------
-- RPC: sessions and codes
-- ---------------------------------------------------------------------------------------------------------------------

-- Creates an advancing session for `show_id` in one transaction: the session, its access code (valid for
-- `expires_in`), its three empty sections and an activity entry. Returns {session_id, access_code, expires_at,
-- show_id, org_id}; the plaintext code is shown only here. Admins and owners of the show's organization may call it.
-- Errors: PT404 unknown show; 42501 not an admin; 22023 bad expires_in.
create or replace function public.create_advancing_session(show_id uuid, expires_in interval default '30 days',
                                                           title text default null)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  org uuid;
  new_session uuid;
  expires timestamptz;
  code text;
begin
  select sh.org_id into org from public.shows sh where sh.id = create_advancing_session.show_id;
  if org is null then
    raise exception using errcode = 'PT404',
      message = pg_catalog.format('show %s not found', create_advancing_session.show_id);
  end if;
  perform private.require_org_role(org, 'admin', 'create an advancing session');
  if expires_in is null or expires_in < interval '1 minute' or expires_in > interval '365 days' then
    raise exception using errcode = 'invalid_parameter_value',
      message = pg_catalog.format('expires_in must be between 1 minute and 365 days (got %s)', expires_in);
  end if;
  perform pg_catalog.set_config('oncore.action', 'create_advancing_session', true);
  insert into public.advancing_sessions (org_id, show_id, title, created_by, code_expires_at)
  values (org, create_advancing_session.show_id, create_advancing_session.title, (select auth.uid()),
          pg_catalog.now() + expires_in)
  returning id, code_expires_at into new_session, expires;
  code := private.issue_access_code(new_session, expires);
  insert into public.hospitality (session_id, org_id) values (new_session, org);
  insert into public.technical (session_id, org_id) values (new_session, org);
  insert into public.production (session_id, org_id) values (new_session, org);
  perform pg_catalog.set_config('oncore.action', '', true);
  return pg_catalog.jsonb_build_object('session_id', new_session, 'access_code', code, 'expires_at', expires,
                                       'show_id', create_advancing_session.show_id, 'org_id', org);
end
$$;

-- Replaces the access code of `session_id` with a new one valid for `expires_in`. The old code stops working at once
-- and every venue guest admitted with it loses access. Returns {session_id, access_code, expires_at}. Admins and
-- owners may call it. Errors: PT404 unknown session; 42501 not an admin; 22023 bad expires_in.
create or replace function public.rotate_access_code(session_id uuid, expires_in interval default '30 days')
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  org uuid;
  expires timestamptz;
  code text;
begin
  select s.org_id into org from public.advancing_sessions s where s.id = rotate_access_code.session_id;
  if org is null then
    raise exception using errcode = 'PT404',
      message = pg_catalog.format('advancing session %s not found', rotate_access_code.session_id);
  end if;
  perform private.require_org_role(org, 'admin', 'rotate access codes');
  if expires_in is null or expires_in < interval '1 minute' or expires_in > interval '365 days' then
    raise exception using errcode = 'invalid_parameter_value',
      message = pg_catalog.format('expires_in must be between 1 minute and 365 days (got %s)', expires_in);
  end if;
  perform pg_catalog.set_config('oncore.action', 'rotate_access_code', true);
  update public.advancing_sessions s
  set code_expires_at = pg_catalog.now() + expires_in, code_rotated_at = pg_catalog.now()
  where s.id = rotate_access_code.session_id
  returning s.code_expires_at into expires;
  code := private.issue_access_code(rotate_access_code.session_id, expires);
  delete from public.advancing_guests g where g.session_id = rotate_access_code.session_id;
  perform pg_catalog.set_config('oncore.action', '', true);
  return pg_catalog.jsonb_build_object('session_id', rotate_access_code.session_id, 'access_code', code,
                                       'expires_at', expires);
end
$$;

-- Admits the signed-in user (typically an anonymous venue guest) to the session whose access code is `code`, until
-- the code expires. Returns {session_id, org_id, show_id, expires_at}. Any signed-in user may call it.
-- A wrong or expired code is counted (not rolled back) and answered with HTTP 404 and a PostgREST-style error body
-- {code: "PT404", message, details, hint}; after 5 wrong codes in a minute: PT429 "too many attempts".
create or replace function public.claim_access_code(code text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  result jsonb := private.try_access_code(code, true);
begin
  if not (result ->> 'ok')::boolean then
    return private.soft_error(404, 'PT404',
      case result ->> 'reason' when 'expired' then 'access code has expired'
                               else 'access code is not valid' end,
      'check the code (letters and digits, e.g. ABCD-EFGH-JKMN) or ask the tour for a new one');
  end if;
  return result - 'ok';
end
$$;

-- Tells whether `code` is a valid, unexpired access code without admitting anyone. Returns {valid: true,
-- session_id, expires_at, organization, show, venue} or {valid: false, reason: invalid|expired}. Wrong codes count
-- towards the same throttle as claim_access_code (PT429 after 5 a minute). Any signed-in user may call it.
create or replace function public.verify_access_code(code text)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  result jsonb := private.try_access_code(code, false);
begin
  if not (result ->> 'ok')::boolean then
    return pg_catalog.jsonb_build_object('valid', false, 'reason', result ->> 'reason');
  end if;
  return pg_catalog.jsonb_build_object('valid', true, 'session_id', result -> 'session_id',
                                       'expires_at', result -> 'expires_at')
         || private.session_preview((result ->> 'session_id')::uuid);
end
$$;

revoke all on function public.create_advancing_session(uuid, interval, text), public.rotate_access_code(uuid, interval),
  public.claim_access_code(text), public.verify_access_code(text) from public, anon;
grant execute on function public.create_advancing_session(uuid, interval, text), public.rotate_access_code(uuid, interval),
  public.claim_access_code(text), public.verify_access_code(text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------------
-- RPC: sections
-- ---------------------------------------------------------------------------------------------------------------------

-- The fields a client may submit per section, with the JSON type each must have ('status' is a section_status).
create or replace function private.section_fields(section text)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  select case section
    when 'hospitality' then '{"status": "status", "guest_count": "count", "guest_list": "array",
      "catering": "object", "dressing_rooms": "array", "hotel": "object", "rider_items": "array",
      "towels": "object", "water": "object", "notes": "text"}'::jsonb
    when 'technical' then '{"status": "status", "stage": "object", "pa": "object", "monitors": "object",
      "consoles": "object", "backline": "array", "power": "object", "rigging": "object", "lighting": "object",
      "documents": "array", "notes": "text"}'::jsonb
    when 'production' then '{"status": "status", "crew_calls": "array", "local_crew": "array",
      "runners": "object", "security": "object", "merch": "object", "settlement": "object", "parking": "object",
      "notes": "text"}'::jsonb
  end
$$;

-- Moves `session` from draft/sent to in_progress when its venue guest submits a section (the venue has started
-- answering). Only acts for a current venue guest of that session. Called by private.submit_section.
create or replace function private.mark_in_progress(session uuid)
returns void
language sql
volatile
security definer
set search_path = ''
as $$
  update public.advancing_sessions s set status = 'in_progress'
  where s.id = session and s.status in ('draft', 'sent') and s.id in (select private.guest_session_ids())
$$;
revoke all on function private.mark_in_progress(uuid) from public, anon;
grant execute on function private.mark_in_progress(uuid) to authenticated, service_role;

-- Applies a partial update `data` to the `section` row of `session`, as the caller (RLS decides who may write).
-- Validates every field first: unknown fields are named in the error, and each value must have its field's type.
-- Returns the updated row; a venue guest's first submission moves the session to in_progress.
-- Called by submit_hospitality / submit_technical / submit_production.
create or replace function private.submit_section(section text, session uuid, data jsonb)
returns jsonb
language plpgsql
volatile
set search_path = ''
as $$
declare
  fields jsonb := private.section_fields(section);
  unknown text;
  bad text;
  columns text;
  result jsonb;
begin
  if data is null or pg_catalog.jsonb_typeof(data) <> 'object' then
    raise exception using errcode = 'invalid_parameter_value',
      message = pg_catalog.format('data must be a JSON object of %s fields', section);
  end if;
  select pg_catalog.string_agg(k, ', ' order by k) into unknown
  from pg_catalog.jsonb_object_keys(data) k where not fields ? k;
  if unknown is not null then
    raise exception using errcode = 'invalid_parameter_value',
      message = pg_catalog.format('unknown %s field(s): %s', section, unknown),
      hint = pg_catalog.format('allowed: %s',
        (select pg_catalog.string_agg(k, ', ' order by k) from pg_catalog.jsonb_object_keys(fields) k));
  end if;
  select pg_catalog.string_agg(pg_catalog.format('%s must be %s', e.key, case f.value #>> '{}'
      when 'status' then 'one of "open", "submitted", "confirmed"'
      when 'count' then 'a whole number >= 0'
      when 'array' then 'a JSON array'
      when 'object' then 'a JSON object'
      else 'text or null' end), '; ' order by e.key)
  into bad
  from pg_catalog.jsonb_each(data) e join pg_catalog.jsonb_each(fields) f on f.key = e.key
  where not case f.value #>> '{}'
    when 'status' then e.value #>> '{}' in ('open', 'submitted', 'confirmed')
    when 'count' then e.value = 'null'::jsonb or (pg_catalog.jsonb_typeof(e.value) = 'number'
                      and (e.value #>> '{}')::numeric >= 0 and (e.value #>> '{}')::numeric % 1 = 0
                      and (e.value #>> '{}')::numeric < 2147483648)
    when 'array' then pg_catalog.jsonb_typeof(e.value) = 'array'
    when 'object' then pg_catalog.jsonb_typeof(e.value) = 'object'
    else pg_catalog.jsonb_typeof(e.value) in ('string', 'null') end;
  if bad is not null then
    raise exception using errcode = 'invalid_parameter_value', message = pg_catalog.format('%s: %s', section, bad);
  end if;

  execute pg_catalog.format('select pg_catalog.to_jsonb(t) from public.%I t where t.session_id = $1', section)
    into result using session;
  if result is null then
    raise exception using errcode = 'PT404', message = pg_catalog.format('advancing session %s not found', session);
  end if;
  if data = '{}'::jsonb then
    return result;
  end if;
  select pg_catalog.string_agg(pg_catalog.quote_ident(k), ', ') into columns from pg_catalog.jsonb_object_keys(data) k;
  perform pg_catalog.set_config('oncore.action', 'submit_' || section, true);
  execute pg_catalog.format(
    'update public.%I t set (%s) = (select %s from pg_catalog.jsonb_populate_record(t, $2) r) '
    'where t.session_id = $1 returning pg_catalog.to_jsonb(t)',
    section, columns, (select pg_catalog.string_agg('r.' || pg_catalog.quote_ident(k), ', ')
                       from pg_catalog.jsonb_object_keys(data) k))
    into result using session, data;
  if result is not null then
    perform private.mark_in_progress(session);
  end if;
  perform pg_catalog.set_config('oncore.action', '', true);
  if result is null then
    raise exception using errcode = 'insufficient_privilege',
      message = pg_catalog.format('you may read but not edit the %s section of this session', section),
      hint = 'viewers cannot submit; ask an admin for the member role';
  end if;
  return result;
end
$$;
revoke all on function private.section_fields(text), private.submit_section(text, uuid, jsonb)
  from public, anon, authenticated;
grant execute on function private.section_fields(text), private.submit_section(text, uuid, jsonb)
  to authenticated, service_role;

-- Partial update of the hospitality section of `session_id` with the fields in `data` (see section_fields).
-- Members of the organization and the session's venue guests may call it; only members may set status "confirmed".
create or replace function public.submit_hospitality(session_id uuid, data jsonb)
returns jsonb
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.submit_section('hospitality', session_id, data)
$$;

-- Partial update of the technical section of `session_id`; same rules as submit_hospitality.
create or replace function public.submit_technical(session_id uuid, data jsonb)
returns jsonb
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.submit_section('technical', session_id, data)
$$;

-- Partial update of the production section of `session_id`; same rules as submit_hospitality.
create or replace function public.submit_production(session_id uuid, data jsonb)
returns jsonb
language sql
volatile
security invoker
set search_path = ''
as $$
  select private.submit_section('production', session_id, data)
$$;

revoke all on function public.submit_hospitality(uuid, jsonb), public.submit_technical(uuid, jsonb),
  public.submit_production(uuid, jsonb) from public, anon;
grant execute on function public.submit_hospitality(uuid, jsonb), public.submit_technical(uuid, jsonb),
  public.submit_production(uuid, jsonb) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------------
-- RPC: the advance sheet
-- ---------------------------------------------------------------------------------------------------------------------

-- The one JSON document every advance-sheet renderer uses, for `session_id`:
--   {version, generated_at, timezone, session, organization, show, venue, schedule, contacts,
--    hospitality, technical, production}
-- schedule merges the show's fixed times (load-in, doors, set time, curfew) with its schedule list, sorted by time,
-- each item {label, at, local_time} where local_time is HH24:MI in the venue's time zone; contacts are the show's
-- then the venue's. Anyone who can read the session may call it (members, viewers, its venue guests).
-- Errors: PT404 when the session does not exist or the caller cannot read it.
create or replace function public.get_advance_sheet(session_id uuid)
returns jsonb
language plpgsql
stable
security invoker
set search_path = ''
as $$
declare
  s public.advancing_sessions;
  sh public.shows;
  v public.venues;
  tz text;
  schedule jsonb;
begin
  select * into s from public.advancing_sessions x where x.id = get_advance_sheet.session_id;
  if s.id is null then
    raise exception using errcode = 'PT404',
      message = pg_catalog.format('advancing session %s not found', get_advance_sheet.session_id);
  end if;
  select * into sh from public.shows x where x.id = s.show_id;
  select * into v from public.venues x where x.id = sh.venue_id;
  tz := coalesce(v.timezone, 'UTC');
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'label', i.label, 'at', i.at,
           'local_time', pg_catalog.to_char(i.at at time zone tz, 'HH24:MI')) || i.extra
           order by i.at nulls last, i.n), '[]'::jsonb)
  into schedule
  from (
    select fixed.label, fixed.at, '{}'::jsonb as extra, fixed.n
    from (values ('Load-in', sh.load_in_at, 1), ('Doors', sh.doors_at, 2), ('Set time', sh.set_time_at, 3),
                 ('Curfew', sh.curfew_at, 4)) fixed (label, at, n)
    where fixed.at is not null
    union all
    select item ->> 'label', (item ->> 'at')::timestamptz, item - 'label' - 'at', 4 + ord::integer
    from pg_catalog.jsonb_array_elements(sh.schedule) with ordinality as list (item, ord)
  ) i;
  return pg_catalog.jsonb_build_object(
    'version', 1,
    'generated_at', pg_catalog.now(),
    'timezone', tz,
    'session', pg_catalog.jsonb_build_object('id', s.id, 'status', s.status, 'title', s.title,
                                             'code_expires_at', s.code_expires_at, 'created_at', s.created_at,
                                             'updated_at', s.updated_at),
    'organization', pg_catalog.jsonb_build_object('id', s.org_id, 'name', private.session_org_name(s.id)),
    'show', pg_catalog.to_jsonb(sh) - 'schedule' - 'contacts',
    'venue', case when v.id is null then null else pg_catalog.to_jsonb(v) - 'contacts' end,
    'schedule', schedule,
    'contacts', coalesce(sh.contacts, '[]'::jsonb) || coalesce(v.contacts, '[]'::jsonb),
    'hospitality', (select pg_catalog.to_jsonb(x) from public.hospitality x where x.session_id = s.id),
    'technical', (select pg_catalog.to_jsonb(x) from public.technical x where x.session_id = s.id),
    'production', (select pg_catalog.to_jsonb(x) from public.production x where x.session_id = s.id));
end
$$;
revoke all on function public.get_advance_sheet(uuid) from public, anon;
grant execute on function public.get_advance_sheet(uuid) to authenticated, service_role;
