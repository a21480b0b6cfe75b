"""Migrations run as hosted Supabase runs them (`supabase db push`): as the demoted `postgres`, one transaction per
file after RESET ALL with lock_timeout = 4s. What hosted refuses is refused here with its SQLSTATE, the file and the
line; what supautils lets `postgres` do (policies on auth/storage tables, publications) goes through."""

from __future__ import annotations

import psycopg
import pytest

from oncore_cli.local.migrate import Migration, MigrationError, apply_migration, applied_versions


@pytest.fixture
def conn(db_url):
    with psycopg.connect(db_url, autocommit=True) as conn:
        assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (False,)
        yield conn


def _migration(tmp_path, name: str, sql: str) -> Migration:
    path = tmp_path / f"20990101{abs(hash(name)) % 10**6:06d}_{name}.sql"
    path.write_text(sql)
    return Migration.from_path(path)


REFUSED = [
    ("function_in_auth", "create function auth.is_admin() returns boolean language sql as 'select true';",
     "permission denied for schema auth"),
    ("table_in_auth", "create table auth.notes (id int);", "permission denied for schema auth"),
    ("function_in_storage", "create function storage.bucket_of(name text) returns text language sql "
                            "as 'select split_part(name, ''/'', 1)';", "permission denied for schema storage"),
    ("alter_auth_users", "alter table auth.users add column nickname text;", "must be owner of table users"),
    ("alter_storage_objects", "alter table storage.objects disable row level security;",
     "must be owner of table objects"),
    ("policy_outside_supautils_list", "create policy mine on auth.flow_state for select using (true);",
     "must be owner of table flow_state"),
    ("copy_from_program", "copy (select 1) to program 'id';", "pg_execute_server_program"),
    ("become_superuser", "alter role postgres superuser;", "superuser"),
]


@pytest.mark.parametrize("name, statement, message", REFUSED, ids=[r[0] for r in REFUSED])
def test_what_hosted_refuses_is_refused_with_file_line_and_sqlstate(conn, tmp_path, unique, name, statement, message):
    migration = _migration(tmp_path, name, f"-- {name}\ncreate table public.probe_{unique} (id int);\n{statement}\n")
    with pytest.raises(MigrationError) as err:
        apply_migration(conn, migration, on_warning=lambda m: None)
    assert err.value.sqlstate == "42501"
    assert err.value.line == 3
    assert str(err.value).startswith(f"{migration.path.name}:3: ") and message in str(err.value)
    # one transaction per file: the table made before the refused statement is gone, nothing is recorded
    assert conn.execute("select to_regclass(%s)", (f"public.probe_{unique}",)).fetchone() == (None,)
    assert migration.version not in applied_versions(conn)


def test_what_supautils_allows_goes_through(conn, tmp_path, unique):
    table = f"probe_{unique}"
    migration = _migration(tmp_path, "allowed", f"""
create table public.{table} (id int primary key, owner uuid);
alter table public.{table} enable row level security;
create policy "{table} objects" on storage.objects for select to authenticated
  using (bucket_id = 'advancing' and (select auth.uid()) is not null);
create policy "{table} buckets" on storage.buckets for select to authenticated using (true);
create policy "{table} users" on auth.users for select to authenticated using (id = (select auth.uid()));
alter policy "{table} users" on auth.users using (false);
alter publication supabase_realtime add table public.{table};
do $$ begin
  if current_setting('lock_timeout') <> '4s' then
    raise exception 'lock_timeout is %', current_setting('lock_timeout');
  end if;
end $$;
""")
    try:
        apply_migration(conn, migration, on_warning=lambda m: None)
        policies = conn.execute("select polrelid::regclass::text from pg_policy where polname like %s order by 1",
                                (f"{table} %",)).fetchall()
        assert policies == [("auth.users",), ("storage.buckets",), ("storage.objects",)]
        assert conn.execute("select count(*) from pg_publication_tables where pubname = 'supabase_realtime' "
                            "and tablename = %s", (table,)).fetchone() == (1,)
        assert migration.version in applied_versions(conn)
        # the owning roles were lent for the policy commands only
        assert conn.execute("select pg_has_role('postgres', 'supabase_auth_admin', 'member') "
                            "or pg_has_role('postgres', 'supabase_storage_admin', 'member')").fetchone() == (False,)
    finally:
        for target in ("storage.objects", "storage.buckets", "auth.users"):
            conn.execute(f'drop policy if exists "{table} {target.split(".")[1]}" on {target}')
        conn.execute(f"drop table if exists public.{table}")
        conn.execute("delete from supabase_migrations.schema_migrations where version = %s", (migration.version,))


def test_dropping_a_policy_on_a_table_postgres_does_not_own_is_refused(conn, admin_db_url, unique):
    with psycopg.connect(admin_db_url, autocommit=True) as admin:
        admin.execute(f"create policy probe_{unique} on auth.flow_state for select using (false)")
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="must be owner of table flow_state"):
            conn.execute(f"drop policy probe_{unique} on auth.flow_state")
    finally:
        with psycopg.connect(admin_db_url, autocommit=True) as admin:
            admin.execute(f"drop policy probe_{unique} on auth.flow_state")


def test_the_superuser_is_not_reachable_over_tcp(stack, admin_db_url):
    password = psycopg.conninfo.conninfo_to_dict(admin_db_url)["password"]
    with pytest.raises(psycopg.OperationalError, match="pg_hba.conf rejects"):
        psycopg.connect(host="127.0.0.1", port=stack.db_port, user="supabase_admin", password=password,
                        dbname="postgres", connect_timeout=5).close()
    with psycopg.connect(admin_db_url) as admin:
        assert admin.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (True,)


def test_postgres_cannot_run_programs_or_read_server_files(conn):
    conn.execute("create temp table sink (line text)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="pg_execute_server_program"):
        conn.execute("copy sink from program 'id'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select pg_read_file('postgresql.conf')")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("grant pg_execute_server_program to postgres")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("alter role supabase_auth_admin password 'mine'")
    roles = conn.execute("select rolsuper, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls, rolcreaterole, "
                         "current_setting('server_version_num')::int >= 160000 from pg_roles "
                         "where rolname = 'postgres'").fetchone()
    # hosted's NOSUPERUSER CREATEDB CREATEROLE LOGIN REPLICATION BYPASSRLS; CREATEROLE only where PostgreSQL (16+)
    # confines it to roles postgres administers, since supautils is not there to
    assert roles[:5] == (False, True, True, True, True) and roles[5] == roles[6]


def test_a_where_less_write_in_a_function_is_reported_when_applied(conn, tmp_path, unique):
    migration = _migration(tmp_path, "unguarded", f"""create table public.probe_{unique} (id int, n int);
create function public.probe_{unique}_reset() returns void
language plpgsql set search_path = ''
as $$
begin
  update public.probe_{unique} set n = 0;
end
$$;
""")
    warnings: list[str] = []
    try:
        apply_migration(conn, migration, on_warning=warnings.append)
        assert warnings == [f"{migration.path.name}:6: UPDATE without WHERE in function public.probe_{unique}_reset: "
                            "hosted Supabase refuses it (21000, safeupdate) when the function runs through the API"]
    finally:
        conn.execute(f"drop table if exists public.probe_{unique} cascade")
        conn.execute(f"drop function if exists public.probe_{unique}_reset()")
        conn.execute("delete from supabase_migrations.schema_migrations where version = %s", (migration.version,))


def test_event_triggers_as_supautils_allows_them(conn, tmp_path, unique):
    """`postgres` creates and drops an event trigger on its own function in a migration (the runner has the
    superuser make it, from names only); a trigger on a function postgres does not own is refused."""
    name = f"probe_{unique}"
    migration = _migration(tmp_path, "event_trigger", f"""
create table public.{name}_log (tag text);
create function public.{name}_note() returns event_trigger language plpgsql as $$
begin
  insert into public.{name}_log values (tg_tag);
end $$;
create event trigger {name} on ddl_command_end when tag in ('CREATE TABLE')
  execute function public.{name}_note();
""")
    try:
        apply_migration(conn, migration, on_warning=lambda m: None)
        conn.execute(f"create table public.{name}_other (id int)")
        assert conn.execute(f"select tag from public.{name}_log").fetchall() == [("CREATE TABLE",)]
        owner = conn.execute("select evtowner::regrole::text from pg_event_trigger where evtname = %s",
                             (name,)).fetchone()
        assert owner == ("supabase_admin",)
        refused = _migration(tmp_path, "event_trigger_foreign", f"create event trigger {name}_x on sql_drop "
                                                                "execute function supautils.policy_command_end();")
        with pytest.raises(MigrationError) as err:
            apply_migration(conn, refused, on_warning=lambda m: None)
        assert err.value.sqlstate == "42501"
        dropped = _migration(tmp_path, "event_trigger_drop", f"drop event trigger if exists {name};")
        apply_migration(conn, dropped, on_warning=lambda m: None)
        assert conn.execute("select count(*) from pg_event_trigger where evtname = %s", (name,)).fetchone() == (0,)
        conn.execute("delete from supabase_migrations.schema_migrations where version = %s", (dropped.version,))
    finally:
        conn.execute("select supautils.drop_event_trigger(%s, true)", (name,))
        conn.execute(f"drop table if exists public.{name}_log, public.{name}_other")
        conn.execute(f"drop function if exists public.{name}_note()")
        conn.execute("delete from supabase_migrations.schema_migrations where version = %s", (migration.version,))
    # outside the runner, as PostgreSQL itself: refused (only superusers create event triggers)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f"create event trigger {name} on sql_drop execute function public.nothing()")
