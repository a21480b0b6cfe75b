-- Show times that never shift.
--
-- A show's times are entered as wall-clock times at the show (doors 19:00) and kept as instants. Until now the
-- zone that turned one into the other was the venue's, read at display time, so correcting a venue's timezone or
-- deleting the venue silently moved every time of its shows. Each show now keeps its own IANA `timezone`:
--   * a new show takes its venue's zone unless one is given;
--   * a show with times must have a zone (no silent UTC);
--   * when a show's zone changes (given, or by moving to a venue in another zone) the times not changed in the
--     same statement keep their wall-clock time;
--   * correcting a venue's zone carries its shows along (same wall-clock times); deleting a venue leaves them as
--     they are.

-- ---------------------------------------------------------------------------------------------------------------------
-- shows.timezone
-- ---------------------------------------------------------------------------------------------------------------------
alter table public.shows add column if not exists timezone text;
comment on column public.shows.timezone is
  'IANA time zone of the show''s wall-clock times (from its venue unless given); kept when the venue changes or goes.';

-- Existing shows: the zone their times were entered in, which was the venue's, or UTC when the venue had none.
update public.shows s
set timezone = coalesce(v.timezone, 'UTC')
from public.shows x
left join public.venues v on v.id = x.venue_id
where s.id = x.id
  and s.timezone is null
  and (v.timezone is not null
       or s.load_in_at is not null or s.doors_at is not null or s.set_time_at is not null or s.curfew_at is not null);

-- The same wall-clock time in another zone: 19:00 in UTC → 19:00 in Europe/Berlin.
create or replace function private.same_wall_clock(at timestamptz, from_zone text, to_zone text)
returns timestamptz
language sql
immutable
set search_path = ''
as $$
  select (at at time zone from_zone) at time zone to_zone
$$;

-- Trigger (before insert or update on shows, after shows_validate by name): fills, checks and follows a show's zone.
create or replace function private.keep_show_wall_clock()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  venue_zone text;
begin
  if new.venue_id is not null
     and (tg_op = 'INSERT' or new.venue_id is distinct from old.venue_id) then
    select v.timezone into venue_zone from public.venues v where v.id = new.venue_id;
    -- A new show, or one moved to another venue, takes the venue's zone unless a zone is given with it.
    if tg_op = 'INSERT' then
      new.timezone := coalesce(new.timezone, venue_zone);
    elsif new.timezone is not distinct from old.timezone then
      new.timezone := coalesce(venue_zone, new.timezone);
    end if;
  end if;
  if new.timezone is not null and not private.is_time_zone(new.timezone) then
    perform private.reject(pg_catalog.format('timezone "%s" is not an IANA time zone', new.timezone),
                           'use a name such as Europe/Berlin or America/New_York');
  end if;
  if tg_op = 'UPDATE' and old.timezone is not null and new.timezone is not null
     and new.timezone <> old.timezone then
    -- Times this statement did not set keep their wall-clock time in the new zone.
    if new.load_in_at is not distinct from old.load_in_at then
      new.load_in_at := private.same_wall_clock(old.load_in_at, old.timezone, new.timezone);
    end if;
    if new.doors_at is not distinct from old.doors_at then
      new.doors_at := private.same_wall_clock(old.doors_at, old.timezone, new.timezone);
    end if;
    if new.set_time_at is not distinct from old.set_time_at then
      new.set_time_at := private.same_wall_clock(old.set_time_at, old.timezone, new.timezone);
    end if;
    if new.curfew_at is not distinct from old.curfew_at then
      new.curfew_at := private.same_wall_clock(old.curfew_at, old.timezone, new.timezone);
    end if;
    if new.schedule = old.schedule and pg_catalog.jsonb_typeof(new.schedule) = 'array' then
      select coalesce(pg_catalog.jsonb_agg(
               case when pg_catalog.jsonb_typeof(item -> 'at') = 'string' and private.is_timestamp(item ->> 'at')
                    then pg_catalog.jsonb_set(item, '{at}', pg_catalog.to_jsonb(private.same_wall_clock(
                           (item ->> 'at')::timestamptz, old.timezone, new.timezone)))
                    else item end
               order by ord), '[]'::jsonb)
      into new.schedule
      from pg_catalog.jsonb_array_elements(old.schedule) with ordinality as list (item, ord);
    end if;
  end if;
  if new.timezone is null
     and (new.load_in_at is not null or new.doors_at is not null or new.set_time_at is not null
          or new.curfew_at is not null) then
    perform private.reject('a show with times needs a timezone: give its venue one, or set the show''s timezone',
                           'an IANA name such as Europe/Berlin; times are wall-clock times in it');
  end if;
  return new;
end
$$;

drop trigger if exists shows_wall_clock on public.shows;
create trigger shows_wall_clock before insert or update on public.shows
  for each row execute function private.keep_show_wall_clock();

-- Trigger (after a venue's timezone changes): the venue's shows that were in its old zone move to the new one at
-- the same wall-clock times (a zone given to a venue that had none corrects the UTC its shows were entered in).
create or replace function private.venue_zone_changed()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.timezone is not null and new.timezone is distinct from old.timezone then
    update public.shows s
    set timezone = new.timezone
    where s.venue_id = new.id
      and s.org_id = new.org_id
      and (s.timezone is not distinct from old.timezone or (old.timezone is null and s.timezone = 'UTC'));
  end if;
  return null;
end
$$;

drop trigger if exists venues_timezone on public.venues;
create trigger venues_timezone after update of timezone on public.venues
  for each row execute function private.venue_zone_changed();

revoke all on function private.same_wall_clock(timestamptz, text, text), private.keep_show_wall_clock(),
  private.venue_zone_changed() from public, anon, authenticated;
-- Called inside the shows trigger, which runs as the user who writes the show.
grant execute on function private.same_wall_clock(timestamptz, text, text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------------
-- get_advance_sheet: `timezone` is the show's zone (its times' wall clock), the venue's only for shows without one.
-- ---------------------------------------------------------------------------------------------------------------------
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
  tz := coalesce(sh.timezone, v.timezone, 'UTC');
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
