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
