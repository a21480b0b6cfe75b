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
