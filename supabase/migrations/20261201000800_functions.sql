-- =====================================================================================================================
-- What the edge functions (supabase/functions) write through: the Stripe webhook's idempotent, order-aware
-- subscription upsert, and send-email's per-organization rate limit. Both RPCs are callable by service_role only:
-- the functions hold that key, users never do.
-- =====================================================================================================================

-- ---------------------------------------------------------------------------------------------------------------------
-- Stripe events: each event id is applied once; an event older than the last one applied to an organization's
-- subscription changes nothing (Stripe does not deliver in order, and retries for days).
-- ---------------------------------------------------------------------------------------------------------------------
alter table public.subscriptions add column if not exists last_event_at timestamptz;
comment on column public.subscriptions.last_event_at is
  'The Stripe `created` time of the newest event applied; older events arriving later are ignored.';

create table if not exists private.stripe_events (
  id text primary key,
  type text not null,
  created timestamptz not null,
  org_id uuid references public.organizations (id) on delete set null,
  outcome text not null,
  received_at timestamptz not null default now(),
  constraint stripe_events_outcome_check check (outcome in ('applied', 'stale', 'unmatched'))
);
comment on table private.stripe_events is 'Stripe event ids already handled by the webhook (idempotency).';
revoke all on private.stripe_events from public, anon, authenticated;

-- apply_stripe_event: one event's effect on an organization's subscription row. Null fields keep their value.
-- Returns {outcome: applied | stale | unmatched | duplicate, org_id}.
create or replace function private.apply_stripe_event(
  event_id text, event_type text, event_created timestamptz, org_id uuid default null,
  customer_id text default null, subscription_id text default null, status text default null,
  plan text default null, current_period_end timestamptz default null
)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  org uuid := org_id;
  current public.subscriptions;
  outcome text;
begin
  if event_id is null or event_type is null or event_created is null then
    raise exception 'event_id, event_type and event_created are required' using errcode = '22023';
  end if;
  -- one event id at a time: a retry racing the first delivery waits, then finds it recorded
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('oncore.stripe_event:' || event_id, 0));
  if exists (select from private.stripe_events e where e.id = event_id) then
    return jsonb_build_object('outcome', 'duplicate',
                              'org_id', (select e.org_id from private.stripe_events e where e.id = event_id));
  end if;
  if org is not null and not exists (select from public.organizations o where o.id = org) then
    org := null;
  end if;
  if org is null and subscription_id is not null then
    select s.org_id into org from public.subscriptions s where s.stripe_subscription_id = subscription_id;
  end if;
  if org is null and customer_id is not null then
    select s.org_id into org from public.subscriptions s where s.stripe_customer_id = customer_id;
  end if;

  if org is null then
    outcome := 'unmatched';
  else
    -- events for one organization are applied one at a time, so "newest wins" holds under concurrency
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('oncore.subscription:' || org::text, 0));
    select * into current from public.subscriptions s where s.org_id = org;
    if found and current.last_event_at is not null and current.last_event_at > event_created then
      outcome := 'stale';
    else
      insert into public.subscriptions as s (org_id, stripe_customer_id, stripe_subscription_id, status, plan,
                                              current_period_end, last_event_at)
      values (org, customer_id, subscription_id, status, plan, current_period_end, event_created)
      on conflict on constraint subscriptions_pkey do update set
        stripe_customer_id = coalesce(excluded.stripe_customer_id, s.stripe_customer_id),
        stripe_subscription_id = coalesce(excluded.stripe_subscription_id, s.stripe_subscription_id),
        status = coalesce(excluded.status, s.status),
        plan = coalesce(excluded.plan, s.plan),
        current_period_end = coalesce(excluded.current_period_end, s.current_period_end),
        last_event_at = excluded.last_event_at;
      perform private.log_activity(org, null, 'stripe_' || replace(event_type, '.', '_'), 'subscription', null,
                                   jsonb_strip_nulls(jsonb_build_object(
                                     'status', jsonb_build_object('new', status), 'plan', jsonb_build_object('new', plan),
                                     'event', jsonb_build_object('new', event_id))));
      outcome := 'applied';
    end if;
  end if;
  insert into private.stripe_events (id, type, created, org_id, outcome)
  values (event_id, event_type, event_created, org, outcome);
  return jsonb_build_object('outcome', outcome, 'org_id', org);
end
$$;
revoke all on function private.apply_stripe_event(text, text, timestamptz, uuid, text, text, text, text, timestamptz)
  from public, anon, authenticated;
grant execute on function private.apply_stripe_event(text, text, timestamptz, uuid, text, text, text, text, timestamptz)
  to service_role;

-- The RPC the webhook calls (POST /rest/v1/rpc/apply_stripe_event with the service-role key).
create or replace function public.apply_stripe_event(
  event_id text, event_type text, event_created timestamptz, org_id uuid default null,
  customer_id text default null, subscription_id text default null, status text default null,
  plan text default null, current_period_end timestamptz default null
)
returns jsonb
language sql
volatile
set search_path = ''
as $$
  select private.apply_stripe_event(event_id, event_type, event_created, org_id, customer_id, subscription_id,
                                    status, plan, current_period_end);
$$;
revoke all on function public.apply_stripe_event(text, text, timestamptz, uuid, text, text, text, text, timestamptz)
  from public, anon, authenticated;
grant execute on function public.apply_stripe_event(text, text, timestamptz, uuid, text, text, text, text, timestamptz)
  to service_role;

-- Owners see their plan change live (RLS decides who receives each change).
do $$
begin
  if exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime')
     and not exists (select from pg_catalog.pg_publication_tables
                     where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'subscriptions') then
    execute 'alter publication supabase_realtime add table public.subscriptions';
  end if;
end
$$;

-- ---------------------------------------------------------------------------------------------------------------------
-- send-email's per-organization rate limit: at most `per_hour` mails in any rolling hour. A sliding window over the
-- send times, counted under a per-organization lock so concurrent sends cannot overshoot.
-- ---------------------------------------------------------------------------------------------------------------------
create table if not exists private.email_sends (
  id bigint generated always as identity primary key,
  org_id uuid not null references public.organizations (id) on delete cascade,
  kind text not null,
  sent_at timestamptz not null default now()
);
create index if not exists email_sends_org_id_idx on private.email_sends (org_id, sent_at desc);
revoke all on private.email_sends from public, anon, authenticated;

-- Returns {allowed: true} and counts the mail, or {allowed: false, retry_after: seconds until one frees up}.
create or replace function private.take_email_quota(org_id uuid, kind text, per_hour integer)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  used integer;
  oldest timestamptz;
begin
  if per_hour is null or per_hour < 1 then
    raise exception 'per_hour must be >= 1' using errcode = '22023';
  end if;
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('oncore.email_sends:' || org_id::text, 0));
  delete from private.email_sends e where e.org_id = take_email_quota.org_id and e.sent_at < now() - interval '1 hour';
  select count(*), min(e.sent_at) into used, oldest
  from private.email_sends e where e.org_id = take_email_quota.org_id;
  if used >= per_hour then
    return jsonb_build_object('allowed', false, 'retry_after',
                              greatest(1, ceil(extract(epoch from oldest + interval '1 hour' - now())))::integer);
  end if;
  insert into private.email_sends (org_id, kind) values (take_email_quota.org_id, kind);
  return jsonb_build_object('allowed', true);
end
$$;
revoke all on function private.take_email_quota(uuid, text, integer) from public, anon, authenticated;
grant execute on function private.take_email_quota(uuid, text, integer) to service_role;

create or replace function public.take_email_quota(org_id uuid, kind text, per_hour integer default 30)
returns jsonb
language sql
volatile
set search_path = ''
as $$
  select private.take_email_quota(org_id, kind, per_hour);
$$;
revoke all on function public.take_email_quota(uuid, text, integer) from public, anon, authenticated;
grant execute on function public.take_email_quota(uuid, text, integer) to service_role;
