-- =====================================================================================================================
-- oncore bulk import: import_shows(org_id, rows) and import_venues(org_id, rows).
--
-- A whole file is one call, so one transaction: it lands completely or not at all. Each row carries an
-- `external_ref` (unique per organization) and upserts by it; a row whose values are already there is left alone
-- (no write, no activity entry), so running the same file again writes nothing. Venues are matched by external_ref,
-- then by (name, city) ignoring case, else created once. Both RPCs run as the caller (RLS applies) after checking
-- that the caller is a member of the organization; every row they write gets its activity entry (action
-- import_shows / import_venues, the changed fields as {old, new}, as the triggers write them), the shows' entries in
-- one statement rather than one trigger call per row. `dry_run` does the same work, reports it, and rolls it back.
-- =====================================================================================================================

-- Venues are looked up by (name, city) ignoring case when no external_ref matches.
create index if not exists venues_org_lower_name_idx on public.venues (org_id, pg_catalog.lower(name));

-- ---------------------------------------------------------------------------------------------------------------------
-- Activity entries for many rows at once
-- ---------------------------------------------------------------------------------------------------------------------

-- While a bulk writer has set `oncore.bulk_log` to 'on', the per-row log triggers on venues and shows stand aside:
-- the writer logs its rows itself with private.log_rows (one insert instead of one trigger call per row).
do $$
declare
  t text;
begin
  foreach t in array array['venues', 'shows'] loop
    execute pg_catalog.format('drop trigger if exists %I on public.%I', t || '_log', t);
    execute pg_catalog.format(
      'create trigger %I after insert or update or delete on public.%I for each row '
      'when (pg_catalog.current_setting(''oncore.bulk_log'', true) is distinct from ''on'') '
      'execute function private.log_change()', t || '_log', t);
  end loop;
end
$$;

-- Appends one activity entry per element of `entries` ([{id, old, new}], old null for a created row) in `org`, with
-- the changed fields as {field: {old, new}} exactly as private.log_change() writes them, for the signed-in user
-- (actor_kind as private.log_activity decides it). Raises 42501 unless the caller is a member of `org`.
create or replace function private.log_rows(org uuid, action text, entity text, entries jsonb)
returns void
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  actor uuid := (select auth.uid());
  kind text;
begin
  perform private.require_org_role(org, 'member', 'write activity');
  kind := case
    when actor is null or (select auth.role()) = 'service_role' then 'service'
    when exists (select from public.org_members m where m.org_id = org and m.user_id = actor) then 'member'
    else 'venue_guest' end;
  if not exists (select from auth.users u where u.id = actor) then
    actor := null;
  end if;
  insert into public.activity_log (org_id, actor_id, actor_kind, action, entity, entity_id, changes)
  select org, actor, kind, action, entity, (e.doc ->> 'id')::uuid,
         coalesce((select pg_catalog.jsonb_object_agg(n.key, pg_catalog.jsonb_build_object('old', e.doc -> 'old' -> n.key,
                                                                                            'new', n.value))
                   from pg_catalog.jsonb_each(e.doc -> 'new') n
                   where n.key not in ('id', 'org_id', 'created_at', 'updated_at', 'updated_by')
                     and coalesce(e.doc -> 'old' -> n.key, 'null'::jsonb) <> n.value),
                  '{}'::jsonb)
  from pg_catalog.jsonb_array_elements(entries) e(doc);
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- Private helper: upsert venue rows
-- ---------------------------------------------------------------------------------------------------------------------

-- Upserts the venues in `rows` (a JSON array of {external_ref, name, city, country, timezone, capacity, address,
-- postcode, region, venue_type, notes}) for `org`, and answers one line per distinct external_ref: the venue's id and
-- created | updated | unchanged. An existing venue keeps its name and city (its identity) and any field the row
-- leaves empty; it gains the row's external_ref when it had none. The first row of a ref wins. Runs as the caller;
-- the rows it writes are logged with the action in `oncore.action`.
create or replace function private.import_venue_rows(org uuid, rows jsonb)
returns table (ref text, venue_id uuid, outcome text)
language plpgsql
volatile
set search_path = ''
as $$
begin
  return query
  with input as (
    select distinct on (r.external_ref) r.*
    from pg_catalog.jsonb_array_elements(rows) with ordinality e(doc, n),
         pg_catalog.jsonb_to_record(e.doc) r(external_ref text, name text, city text, country text, timezone text,
                                             capacity integer, address text, postcode text, region text,
                                             venue_type text, notes text)
    order by r.external_ref, e.n
  ),
  named as (  -- the organization's venues by (name, city) ignoring case; one per pair, those without a ref first
    select distinct on (pg_catalog.lower(v.name), pg_catalog.lower(coalesce(pg_catalog.btrim(v.city), '')))
           v.id, pg_catalog.lower(v.name) as lower_name,
           pg_catalog.lower(coalesce(pg_catalog.btrim(v.city), '')) as lower_city
    from public.venues v where v.org_id = org
    order by pg_catalog.lower(v.name), pg_catalog.lower(coalesce(pg_catalog.btrim(v.city), '')),
             v.external_ref nulls first, v.created_at, v.id
  ),
  matched as (
    select i.*, coalesce(by_ref.id, by_name.id) as found
    from input i
    left join public.venues by_ref on by_ref.org_id = org and by_ref.external_ref = i.external_ref
    left join named by_name on by_name.lower_name = pg_catalog.lower(pg_catalog.btrim(i.name))
                           and by_name.lower_city = pg_catalog.lower(coalesce(pg_catalog.btrim(i.city), ''))
  ),
  previous as (
    select v.* from public.venues v where v.org_id = org and v.id in (select m.found from matched m)
  ),
  changed as (
    update public.venues v set
      country = coalesce(m.country, v.country), timezone = coalesce(m.timezone, v.timezone),
      capacity = coalesce(m.capacity, v.capacity), address = coalesce(m.address, v.address),
      postcode = coalesce(m.postcode, v.postcode), region = coalesce(m.region, v.region),
      venue_type = coalesce(m.venue_type, v.venue_type), notes = coalesce(m.notes, v.notes),
      external_ref = coalesce(v.external_ref, m.external_ref)
    from matched m
    where v.id = m.found
      and (v.country, v.timezone, v.capacity, v.address, v.postcode, v.region, v.venue_type, v.notes, v.external_ref)
          is distinct from
          (coalesce(m.country, v.country), coalesce(m.timezone, v.timezone), coalesce(m.capacity, v.capacity),
           coalesce(m.address, v.address), coalesce(m.postcode, v.postcode), coalesce(m.region, v.region),
           coalesce(m.venue_type, v.venue_type), coalesce(m.notes, v.notes), coalesce(v.external_ref, m.external_ref))
    returning v.*, m.external_ref as ref
  ),
  created as (
    insert into public.venues (org_id, external_ref, name, city, country, timezone, capacity, address, postcode,
                               region, venue_type, notes)
    select org, m.external_ref, pg_catalog.btrim(m.name), pg_catalog.btrim(m.city), m.country, m.timezone,
           m.capacity, m.address, m.postcode, m.region, m.venue_type, m.notes
    from matched m where m.found is null
    returning *
  ),
  logged as (
    select private.log_rows(org, pg_catalog.current_setting('oncore.action', true), 'venues',
                            pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', w.id, 'old', w.old, 'new', w.new)))
    from (select u.id, pg_catalog.to_jsonb(p) as old, pg_catalog.to_jsonb(u) - 'ref' as new
          from changed u join previous p on p.id = u.id
          union all
          select c.id, null, pg_catalog.to_jsonb(c) from created c) w
    having pg_catalog.count(*) > 0
  )
  select m.external_ref, coalesce(m.found, c.id),
         case when m.found is null then 'created' when u.ref is not null then 'updated' else 'unchanged' end
  from matched m
  left join created c on c.external_ref = m.external_ref
  left join changed u on u.ref = m.external_ref
  cross join (select pg_catalog.count(*) from logged) l;  -- (a left join would be optimised away)
end
$$;

-- Raises invalid_parameter_value (22023, HTTP 400) unless `rows` is a JSON array of objects, each with a text
-- external_ref that no other row repeats. `what` names the rows in the message ('show', 'venue').
create or replace function private.check_import_rows(rows jsonb, what text)
returns void
language plpgsql
stable
set search_path = ''
as $$
declare
  bad bigint;
  twice text;
begin
  if rows is null or pg_catalog.jsonb_typeof(rows) <> 'array' then
    raise exception using errcode = 'invalid_parameter_value', message = 'rows must be a JSON array of objects';
  end if;
  select e.n into bad from pg_catalog.jsonb_array_elements(rows) with ordinality e(doc, n)
  where pg_catalog.jsonb_typeof(e.doc) <> 'object' or pg_catalog.jsonb_typeof(e.doc -> 'external_ref') <> 'string'
     or pg_catalog.length(pg_catalog.btrim(e.doc ->> 'external_ref')) = 0
  order by e.n limit 1;
  if bad is not null then
    raise exception using errcode = 'invalid_parameter_value',
      message = pg_catalog.format('%s row %s must be an object with a non-empty text external_ref', what, bad);
  end if;
  select e.doc ->> 'external_ref' into twice from pg_catalog.jsonb_array_elements(rows) e(doc)
  group by 1 having pg_catalog.count(*) > 1 limit 1;
  if twice is not null then
    raise exception using errcode = 'invalid_parameter_value',
      message = pg_catalog.format('%s external_ref "%s" appears more than once', what, twice),
      hint = 'each row must be a different ' || what;
  end if;
end
$$;

revoke all on function private.import_venue_rows(uuid, jsonb), private.check_import_rows(jsonb, text),
  private.log_rows(uuid, text, text, jsonb) from public, anon, authenticated;
grant execute on function private.import_venue_rows(uuid, jsonb), private.check_import_rows(jsonb, text),
  private.log_rows(uuid, text, text, jsonb) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------------------------
-- RPC: import_venues(org_id, rows, dry_run)
-- ---------------------------------------------------------------------------------------------------------------------

-- Upserts venues into `org_id` in one transaction. `rows`: a JSON array of {external_ref, name, city, country,
-- timezone, capacity, address, postcode, region, venue_type, notes}. Returns {venues: {created, updated, unchanged},
-- dry_run, changes} where changes lists, with dry_run, {external_ref, action} of each row that would be created or
-- updated. Members and above may call it. Errors: 42501 not a member; 22023 bad rows; 23514 a bad value.
create or replace function public.import_venues(org_id uuid, rows jsonb, dry_run boolean default false)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  result jsonb;
begin
  perform private.require_org_role(import_venues.org_id, 'member', 'import venues');
  perform private.check_import_rows(rows, 'venue');
  begin
    perform pg_catalog.set_config('oncore.action', 'import_venues', true);
    perform pg_catalog.set_config('oncore.bulk_log', 'on', true);
    select pg_catalog.jsonb_build_object(
      'venues', pg_catalog.jsonb_build_object(
        'created', pg_catalog.count(*) filter (where v.outcome = 'created'),
        'updated', pg_catalog.count(*) filter (where v.outcome = 'updated'),
        'unchanged', pg_catalog.count(*) filter (where v.outcome = 'unchanged')),
      'dry_run', coalesce(dry_run, false),
      'changes', case when dry_run then coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'external_ref', v.ref, 'action', v.outcome)) filter (where v.outcome <> 'unchanged'), '[]'::jsonb)
                 else '[]'::jsonb end)
    into result
    from private.import_venue_rows(import_venues.org_id, rows) v;
    perform pg_catalog.set_config('oncore.bulk_log', '', true);
    perform pg_catalog.set_config('oncore.action', '', true);
    if dry_run then
      raise exception using errcode = 'OCDRY';  -- undo everything above; `result` survives
    end if;
  exception when sqlstate 'OCDRY' then
    null;
  end;
  return result;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- RPC: import_shows(org_id, rows, dry_run)
-- ---------------------------------------------------------------------------------------------------------------------

-- Upserts shows (and their venues) into `org_id` in one transaction. `rows`: a JSON array of {external_ref, date,
-- status, load_in_at, doors_at, set_time_at, curfew_at (instants), capacity, promoter_email, notes, title, venue:
-- {external_ref, name, city, country, timezone, ...}}. A show's fields are set to the row's (an empty field clears
-- it; title is kept when the row has none). Returns {shows: {created, updated, unchanged}, venues: {...}, dry_run,
-- changes: [{external_ref, action}]}. Members and above may call it.
-- Errors: 42501 not a member; 22023 bad rows; 23514 / 22P02 a bad value (the whole call is undone).
create or replace function public.import_shows(org_id uuid, rows jsonb, dry_run boolean default false)
returns jsonb
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  org uuid := import_shows.org_id;
  venue_ids jsonb;
  venue_counts jsonb;
  result jsonb;
begin
  perform private.require_org_role(org, 'member', 'import shows');
  perform private.check_import_rows(rows, 'show');
  if exists (select from pg_catalog.jsonb_array_elements(rows) e(doc)
             where pg_catalog.jsonb_typeof(e.doc -> 'venue') is distinct from 'object'
                or pg_catalog.jsonb_typeof(e.doc -> 'venue' -> 'external_ref') is distinct from 'string') then
    raise exception using errcode = 'invalid_parameter_value',
      message = 'each show row needs a venue object with a text external_ref',
      hint = '{"external_ref": "...", "date": "2027-03-14", "venue": {"external_ref": "...", "name": "...", "city": "..."}}';
  end if;
  begin
    perform pg_catalog.set_config('oncore.action', 'import_shows', true);
    perform pg_catalog.set_config('oncore.bulk_log', 'on', true);
    select pg_catalog.jsonb_object_agg(v.ref, v.venue_id),
           pg_catalog.jsonb_build_object(
             'created', pg_catalog.count(*) filter (where v.outcome = 'created'),
             'updated', pg_catalog.count(*) filter (where v.outcome = 'updated'),
             'unchanged', pg_catalog.count(*) filter (where v.outcome = 'unchanged'))
    into venue_ids, venue_counts
    from private.import_venue_rows(org, (select pg_catalog.jsonb_agg(e.doc -> 'venue')
                                         from pg_catalog.jsonb_array_elements(rows) e(doc))) v;

        with input as (
      select r.*, e.doc -> 'venue' ->> 'external_ref' as venue_ref
      from pg_catalog.jsonb_array_elements(rows) e(doc),
           pg_catalog.jsonb_to_record(e.doc) r(external_ref text, date date, status public.show_status, title text,
                                               load_in_at timestamptz, doors_at timestamptz,
                                               set_time_at timestamptz, curfew_at timestamptz, capacity integer,
                                               promoter_email text, notes text)
    ),
    incoming as (
      select i.*, (venue_ids ->> i.venue_ref)::uuid as venue_id from input i
    ),
    -- Existing rows are compared first, so an unchanged row is neither written nor locked (an INSERT … ON CONFLICT
    -- would lock every one of them).
    previous as (
      select s.* from public.shows s join incoming i on i.external_ref = s.external_ref
      where s.org_id = org
    ),
    changed as (
      update public.shows s set
        venue_id = i.venue_id, date = i.date, status = coalesce(i.status, 'hold'),
        title = coalesce(i.title, s.title), load_in_at = i.load_in_at, doors_at = i.doors_at,
        set_time_at = i.set_time_at, curfew_at = i.curfew_at, capacity = i.capacity,
        promoter_email = i.promoter_email, notes = i.notes
      from incoming i
      where s.org_id = org and s.external_ref = i.external_ref
        and (s.venue_id, s.date, s.status, s.title, s.load_in_at, s.doors_at, s.set_time_at, s.curfew_at,
             s.capacity, s.promoter_email, s.notes)
            is distinct from
            (i.venue_id, i.date, coalesce(i.status, 'hold'), coalesce(i.title, s.title), i.load_in_at, i.doors_at,
             i.set_time_at, i.curfew_at, i.capacity, i.promoter_email, i.notes)
      returning s.*
    ),
    created as (
      insert into public.shows (org_id, external_ref, venue_id, date, status, title, load_in_at, doors_at,
                                set_time_at, curfew_at, capacity, promoter_email, notes)
      select org, i.external_ref, i.venue_id, i.date, coalesce(i.status, 'hold'), i.title, i.load_in_at,
             i.doors_at, i.set_time_at, i.curfew_at, i.capacity, i.promoter_email, i.notes
      from incoming i
      where not exists (select from previous p where p.external_ref = i.external_ref)
      returning *
    ),
    written as (
      select c.*, false as inserted from changed c
      union all
      select c.*, true from created c
    ),
    logged as (
      select private.log_rows(org, 'import_shows', 'shows', pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'id', w.id, 'old', pg_catalog.to_jsonb(p), 'new', pg_catalog.to_jsonb(w) - 'inserted')))
      from written w left join previous p on p.id = w.id
      having pg_catalog.count(*) > 0
    )
    select pg_catalog.jsonb_build_object(
      'shows', pg_catalog.jsonb_build_object(
        'created', pg_catalog.count(*) filter (where w.inserted),
        'updated', pg_catalog.count(*) filter (where not w.inserted),
        'unchanged', pg_catalog.jsonb_array_length(rows) - pg_catalog.count(*)),
      'venues', venue_counts,
      'dry_run', coalesce(dry_run, false),
      'changes', case when dry_run then coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'external_ref', w.external_ref, 'action', case when w.inserted then 'created' else 'updated' end)),
                   '[]'::jsonb) else '[]'::jsonb end)
    into result
    from written w cross join (select pg_catalog.count(*) from logged) l;  -- (a left join would be optimised away)
    perform pg_catalog.set_config('oncore.bulk_log', '', true);
    perform pg_catalog.set_config('oncore.action', '', true);
    if dry_run then
      raise exception using errcode = 'OCDRY';  -- undo everything above; `result` survives
    end if;
  exception when sqlstate 'OCDRY' then
    null;
  end;
  return result;
end
$$;

revoke all on function public.import_shows(uuid, jsonb, boolean), public.import_venues(uuid, jsonb, boolean)
  from public, anon;
grant execute on function public.import_shows(uuid, jsonb, boolean), public.import_venues(uuid, jsonb, boolean)
  to authenticated, service_role;
