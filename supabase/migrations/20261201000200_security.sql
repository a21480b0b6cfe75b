-- =====================================================================================================================
-- oncore security: what an attack review of the foundation found in the SQL rules.
--
--  * access codes: the throttle holds for every HTTP method (a read-only transaction is refused before anything is
--    checked) and for concurrent guesses (one user's attempts are serialised);
--  * sections: a section confirmed by a member is read-only to venue guests until a member reopens it; direct table
--    writes obey the same types as submit_<section>() (check constraints), and no row changes its keys;
--  * shows: deleting a show that has advancing sessions deletes them too, so it needs the role that deletes sessions;
--  * owners: the last-owner rule holds under concurrency (an organization's owner changes are serialised);
--  * members: add_org_member() invites; the invitee, signed in with that confirmed address, accepts. The answer is
--    the same whether or not the address has an account, and nobody is put into an organization unasked.
-- =====================================================================================================================

-- ---------------------------------------------------------------------------------------------------------------------
-- Access codes
-- ---------------------------------------------------------------------------------------------------------------------

-- Same contract as before (see 20261126000200_advancing.sql), plus: refuses to run in a read-only transaction
-- (PostgREST runs GET /rpc/... read-only, where a wrong code could not be recorded; 25006 → HTTP 405), and takes a
-- per-user transaction lock before counting, so concurrent wrong codes from one user are counted one after another.
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
  if pg_catalog.current_setting('transaction_read_only') = 'on' then
    raise exception using errcode = 'read_only_sql_transaction',
      message = 'access codes are checked with POST: a read-only request cannot count the attempt',
      hint = 'call the function with POST /rest/v1/rpc/...';
  end if;
  if caller is null then
    raise exception using errcode = 'insufficient_privilege',
      message = 'sign in (anonymous sign-in is enough) before using an access code';
  end if;
  -- one user's attempts run one at a time: each sees the attempts the ones before it recorded
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('oncore.code_attempts:' || caller::text, 0));
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

-- ---------------------------------------------------------------------------------------------------------------------
-- Sections
-- ---------------------------------------------------------------------------------------------------------------------

-- Trigger on section rows (replaces the advancing migration's): stamps updated_at/updated_by; no row changes its id,
-- session or organization; only organization members confirm a section, and once confirmed it is read-only to the
-- session's venue guests until a member reopens it (sets another status). The activity log records each step.
create or replace function private.guard_section()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  is_member boolean := current_user not in ('authenticated', 'anon')
                       or private.has_org_role(new.org_id, 'member');
begin
  if tg_op = 'UPDATE' and (new.id <> old.id or new.session_id <> old.session_id or new.org_id <> old.org_id) then
    raise exception using errcode = 'check_violation',
      message = pg_catalog.format('%s: id, session_id and org_id cannot change', tg_table_name);
  end if;
  if tg_op = 'UPDATE' and old.status = 'confirmed' and not is_member then
    raise exception using errcode = 'insufficient_privilege',
      message = pg_catalog.format('the %s section was confirmed by the tour and is read-only now', tg_table_name),
      hint = 'ask the tour to reopen it';
  end if;
  if new.status = 'confirmed' and (tg_op = 'INSERT' or old.status <> 'confirmed') and not is_member then
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

-- The JSON type of each list/detail column, checked on every write (direct PATCH or submit_<section>): the very
-- table submit_section() validates against. NOT VALID: enforced from now on without failing on rows stored before.
do $$
declare
  t text;
  f record;
begin
  foreach t in array array['hospitality', 'technical', 'production'] loop
    for f in select e.key, e.value #>> '{}' as kind from pg_catalog.jsonb_each(private.section_fields(t)) e
             where e.value #>> '{}' in ('array', 'object') loop
      if not exists (select from pg_catalog.pg_constraint c
                     where c.conrelid = pg_catalog.format('public.%I', t)::regclass
                       and c.conname = pg_catalog.format('%s_%s_%s', t, f.key, f.kind)) then
        execute pg_catalog.format('alter table public.%I add constraint %I check (jsonb_typeof(%I) = %L) not valid',
                                  t, pg_catalog.format('%s_%s_%s', t, f.key, f.kind), f.key, f.kind);
      end if;
    end loop;
  end loop;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- Shows
-- ---------------------------------------------------------------------------------------------------------------------

-- Trigger before deleting a show: its advancing sessions (and their sections) go with it, and deleting sessions is
-- an admin's action, so a member may delete only a show without sessions.
create or replace function private.guard_show_delete()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  sessions integer;
begin
  if current_user in ('authenticated', 'anon') and not private.has_org_role(old.org_id, 'admin') then
    select pg_catalog.count(*) into sessions from public.advancing_sessions s where s.show_id = old.id;
    if sessions > 0 then
      raise exception using errcode = 'insufficient_privilege',
        message = pg_catalog.format('only an organization admin or owner can delete a show that has advancing '
                                    'sessions (this one has %s)', sessions),
        hint = 'ask an admin or owner of the organization to delete it';
    end if;
  end if;
  return old;
end
$$;
revoke all on function private.guard_show_delete() from public, anon, authenticated;

drop trigger if exists shows_guard_delete on public.shows;
create trigger shows_guard_delete before delete on public.shows
  for each row execute function private.guard_show_delete();

-- ---------------------------------------------------------------------------------------------------------------------
-- Owners
-- ---------------------------------------------------------------------------------------------------------------------

-- Trigger on org_members (replaces the core migration's): as before, plus changes to an organization's owner rows
-- take a transaction lock on that organization first, so two owners leaving at once are checked one after the
-- other and the second one sees that it is the last.
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
     and (tg_op = 'DELETE' or new.role <> 'owner' or new.org_id <> old.org_id) then
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('oncore.org_owners:' || old.org_id::text, 0));
    if private.is_last_owner(old.org_id, old.user_id) then
      raise exception using errcode = 'check_violation',
        message = 'an organization must keep at least one owner',
        hint = 'make another member owner first';
    end if;
  end if;
  return case when tg_op = 'DELETE' then old else new end;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- Members: invitations
-- ---------------------------------------------------------------------------------------------------------------------

-- Pending invitations: an admin invites an e-mail address with a role; whoever signs in with that address, confirmed,
-- accepts it (accept_org_invitation) and becomes a member. Nothing here says whether the address has an account.
create table if not exists public.org_invitations (
  org_id uuid not null references public.organizations (id) on delete cascade,
  email text not null,
  role public.org_role not null default 'member',
  invited_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (org_id, email),
  constraint org_invitations_email_format check (email = lower(email) and email ~ '^[^@[:space:]]+@[^@[:space:]]+$')
);
comment on table public.org_invitations is
  'Invitations to join an organization, by e-mail address; the invitee accepts with accept_org_invitation(org_id).';
create index if not exists org_invitations_email_idx on public.org_invitations (email);
create index if not exists org_invitations_invited_by_idx on public.org_invitations (invited_by);

-- The signed-in user's e-mail address (lower case) once confirmed; null for anonymous or unconfirmed users.
create or replace function private.my_confirmed_email()
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select pg_catalog.lower(u.email) from auth.users u
  where u.id = (select auth.uid()) and u.email_confirmed_at is not null and not u.is_anonymous
$$;
revoke all on function private.my_confirmed_email() from public, anon, authenticated;
grant execute on function private.my_confirmed_email() to authenticated, service_role;

alter table public.org_invitations enable row level security;
-- Admins see their organization's invitations; the invitee sees its own. Writes go through the RPCs; an admin
-- withdraws an invitation and an invitee declines one by deleting it.
create policy org_invitations_select on public.org_invitations for select to authenticated
  using (org_id in (select private.org_ids_with_role('admin')) or email = (select private.my_confirmed_email()));
create policy org_invitations_delete on public.org_invitations for delete to authenticated
  using (org_id in (select private.org_ids_with_role('admin')) or email = (select private.my_confirmed_email()));

-- Memberships are made only by create_organization() and accept_org_invitation(): a direct insert would put anyone
-- into an organization unasked.
drop policy if exists org_members_insert on public.org_members;

-- Records the invitation of `address` to `org` with `role` (replacing an earlier one). Called by add_org_member after
-- its checks.
create or replace function private.invite_org_member(org uuid, address text, member_role public.org_role)
returns public.org_invitations
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  result public.org_invitations;
begin
  if exists (select from public.org_members m join auth.users u on u.id = m.user_id
             where m.org_id = org and pg_catalog.lower(u.email) = address) then
    raise exception using errcode = 'unique_violation',
      message = pg_catalog.format('%s is already a member of this organization', address),
      hint = 'change their role instead';
  end if;
  insert into public.org_invitations (org_id, email, role, invited_by)
  values (org, address, member_role, (select auth.uid()))
  on conflict (org_id, email) do update
    set role = excluded.role, invited_by = excluded.invited_by, created_at = pg_catalog.now()
  returning * into result;
  perform private.log_activity(org, null, 'add_org_member', 'org_invitations', null,
    pg_catalog.jsonb_build_object('email', pg_catalog.jsonb_build_object('old', null, 'new', address),
                                  'role', pg_catalog.jsonb_build_object('old', null, 'new', member_role)));
  return result;
end
$$;

-- Makes the signed-in user (with a confirmed address) a member of `org` with the role it was invited with, and
-- removes the invitation. Called by accept_org_invitation.
create or replace function private.accept_org_invitation(org uuid)
returns public.org_members
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  me uuid := (select auth.uid());
  address text := private.my_confirmed_email();
  invitation public.org_invitations;
  result public.org_members;
begin
  if me is null or address is null then
    raise exception using errcode = 'insufficient_privilege',
      message = 'sign in with a confirmed e-mail address to accept an invitation';
  end if;
  delete from public.org_invitations i where i.org_id = org and i.email = address returning * into invitation;
  if invitation.org_id is null then
    raise exception using errcode = 'PT404',
      message = pg_catalog.format('no invitation to organization %s for %s', org, address),
      hint = 'list yours with list_my_invitations()';
  end if;
  perform pg_catalog.set_config('oncore.action', 'accept_org_invitation', true);
  insert into public.org_members (org_id, user_id, role) values (org, me, invitation.role)
  on conflict (org_id, user_id) do nothing
  returning * into result;
  perform pg_catalog.set_config('oncore.action', '', true);
  if result.org_id is null then  -- already a member: the invitation is used up, the role stays
    select * into result from public.org_members m where m.org_id = org and m.user_id = me;
  end if;
  return result;
end
$$;

-- The signed-in user's pending invitations with the organization's name and slug (which it cannot read yet).
create or replace function private.my_invitations()
returns table (org_id uuid, org_name text, org_slug text, role public.org_role, invited_by text,
               created_at timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
  select i.org_id, o.name, o.slug, i.role, u.email::text, i.created_at
  from public.org_invitations i
  join public.organizations o on o.id = i.org_id
  left join auth.users u on u.id = i.invited_by
  where i.email = private.my_confirmed_email()
  order by i.created_at desc
$$;
revoke all on function private.invite_org_member(uuid, text, public.org_role), private.accept_org_invitation(uuid),
  private.my_invitations() from public, anon, authenticated;
grant execute on function private.invite_org_member(uuid, text, public.org_role), private.accept_org_invitation(uuid),
  private.my_invitations() to authenticated, service_role;

-- The address lookup that added users directly (and answered 404 for addresses without an account) is gone.
drop function if exists public.add_org_member(uuid, text, public.org_role);
drop function if exists private.user_id_for_member_email(uuid, text);

-- Invites `email` to `org_id` with `role` (default member); returns the invitation {org_id, email, role, invited_by,
-- created_at}, the same whether or not the address has an account. Admins and owners may call it; only owners invite
-- an owner. Errors: 42501 not allowed; 22023 not an e-mail address; 23505 already a member.
create or replace function public.add_org_member(org_id uuid, email text, role public.org_role default 'member')
returns public.org_invitations
language plpgsql
volatile
security invoker
set search_path = ''
as $$
declare
  address text := pg_catalog.lower(pg_catalog.btrim(email));
  member_role public.org_role := coalesce(role, 'member');
begin
  perform private.require_org_role(org_id, 'admin', 'invite members');
  if address is null or address !~ '^[^@[:space:]]+@[^@[:space:]]+$' then
    raise exception using errcode = 'invalid_parameter_value',
      message = pg_catalog.format('"%s" is not an e-mail address', email);
  end if;
  if member_role = 'owner' and (select auth.role()) is distinct from 'service_role'
     and not private.has_org_role(org_id, 'owner') then
    raise exception using errcode = 'insufficient_privilege', message = 'only an owner can invite an owner';
  end if;
  return private.invite_org_member(org_id, address, member_role);
end
$$;

-- Accepts the signed-in user's invitation to `org_id`: returns the new membership row. Errors: 42501 when not signed in
-- with a confirmed address; PT404 when there is no invitation for that address.
create or replace function public.accept_org_invitation(org_id uuid)
returns public.org_members
language sql
volatile
security invoker
set search_path = ''
as $$
  select * from private.accept_org_invitation(org_id)
$$;

-- The signed-in user's pending invitations: (org_id, org_name, org_slug, role, invited_by, created_at).
create or replace function public.list_my_invitations()
returns table (org_id uuid, org_name text, org_slug text, role public.org_role, invited_by text,
               created_at timestamptz)
language sql
stable
security invoker
set search_path = ''
as $$
  select * from private.my_invitations()
$$;

revoke all on function public.add_org_member(uuid, text, public.org_role), public.accept_org_invitation(uuid),
  public.list_my_invitations() from public, anon;
grant execute on function public.add_org_member(uuid, text, public.org_role), public.accept_org_invitation(uuid),
  public.list_my_invitations() to authenticated, service_role;
