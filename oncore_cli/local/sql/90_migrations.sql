-- Where the supabase CLI records applied migrations (supabase db push / supabase start).
create schema if not exists supabase_migrations;
create table if not exists supabase_migrations.schema_migrations (
  version text primary key,
  statements text[],
  name text
);
