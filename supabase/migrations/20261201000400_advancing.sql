-- =====================================================================================================================
-- oncore advancing: tell a replaced access code from a wrong one.
--
-- When rotate_access_code gives a session a new code, the old code's hash is kept in private.retired_access_codes,
-- so claim_access_code can answer "this code was replaced" (HTTP 410, PT410) instead of "not valid": a venue that
-- types last week's code learns to ask for the current one. A replaced code admits nobody and still counts as a
-- wrong attempt for the throttle.
-- =====================================================================================================================

create table if not exists private.retired_access_codes (
  code_hash bytea primary key,
  session_id uuid not null references public.advancing_sessions (id) on delete cascade,
  retired_at timestamptz not null default now()
);
create index if not exists retired_access_codes_session_id_idx on private.retired_access_codes (session_id);
alter table private.retired_access_codes enable row level security;
revoke all on private.retired_access_codes from public, anon, authenticated;

-- Trigger on private.access_codes: keeps the hash a session's code had before it was replaced.
create or replace function private.retire_access_code()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.code_hash is distinct from old.code_hash then
    insert into private.retired_access_codes (code_hash, session_id)
    values (old.code_hash, old.session_id)
    on conflict on constraint retired_access_codes_pkey do nothing;
  end if;
  return new;
end
$$;
revoke all on function private.retire_access_code() from public, anon, authenticated;

drop trigger if exists access_codes_retire on private.access_codes;
create trigger access_codes_retire after update on private.access_codes
  for each row execute function private.retire_access_code();

-- True if `code` was once a session's access code and has since been replaced. Called by claim_access_code only
-- after the code was found not valid (so it never reveals anything about a current code).
create or replace function private.access_code_retired(code text)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select from private.retired_access_codes r where r.code_hash = private.hash_access_code(code))
$$;
revoke all on function private.access_code_retired(text) from public, anon;
grant execute on function private.access_code_retired(text) to authenticated, service_role;

-- Admits the signed-in user (typically an anonymous venue guest) to the session whose access code is `code`, until
-- the code expires. Returns {session_id, org_id, show_id, expires_at}. Any signed-in user may call it.
-- Wrong, expired and replaced codes are counted (not rolled back) and answered with a PostgREST-style error body
-- {code, message, details, hint}: PT404 "not valid", PT404 "has expired", PT410 "was replaced by a newer one";
-- after 5 wrong codes in a minute: PT429 "too many attempts".
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
    if result ->> 'reason' = 'invalid' and private.access_code_retired(code) then
      return private.soft_error(410, 'PT410', 'access code was replaced by a newer one',
        'the tour rotated this code: ask them for the current one');
    end if;
    return private.soft_error(404, 'PT404',
      case result ->> 'reason' when 'expired' then 'access code has expired'
                               else 'access code is not valid' end,
      'check the code (letters and digits, e.g. ABCD-EFGH-JKMN) or ask the tour for a new one');
  end if;
  return result - 'ok';
end
$$;
revoke all on function public.claim_access_code(text) from public, anon;
grant execute on function public.claim_access_code(text) to authenticated, service_role;
