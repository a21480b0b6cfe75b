"""Shape of the migrated schema: RLS everywhere, the realtime publication, closed function privileges, indexed
foreign keys."""

from __future__ import annotations

import pytest

TABLES = ["organizations", "org_members", "venues", "shows", "advancing_sessions", "hospitality", "technical",
          "production", "advancing_guests", "activity_log", "subscriptions"]
PUBLISHED = {"shows", "advancing_sessions", "hospitality", "technical", "production", "activity_log"}


def test_every_public_table_has_rls(conn):
    rows = conn.execute("select relname, relrowsecurity from pg_class "
                        "where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')").fetchall()
    assert set(TABLES) <= {name for name, _ in rows}
    assert [name for name, rls in rows if not rls] == []


def test_realtime_publication(conn):
    published = {r[0] for r in conn.execute(
        "select tablename from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public'")}
    assert PUBLISHED <= published


@pytest.mark.parametrize("table", ["hospitality", "technical", "production", "advancing_sessions"])
def test_replica_identity_full(conn, table):
    assert conn.execute("select relreplident from pg_class where oid = %s::regclass",
                        (f"public.{table}",)).fetchone() == ("f",)


def test_no_public_function_is_security_definer_or_open_to_anon(conn):
    rows = conn.execute(
        "select p.oid::regprocedure::text, p.prosecdef, has_function_privilege('anon', p.oid, 'execute') "
        "from pg_proc p where p.pronamespace = 'public'::regnamespace").fetchall()
    assert [name for name, definer, _ in rows if definer] == []
    assert [name for name, _, anon in rows if anon] == []


def test_foreign_keys_are_indexed(conn):
    """Every foreign key's columns lead some index of its table (policies and cascades filter by them)."""
    unindexed = conn.execute("""
        select c.conrelid::regclass::text, c.conname
        from pg_constraint c
        where c.contype = 'f' and c.connamespace = 'public'::regnamespace
          and not exists (
            select from pg_index i
            where i.indrelid = c.conrelid
              and (i.indkey::smallint[])[0:array_length(c.conkey, 1) - 1] @> c.conkey
              and (i.indkey::smallint[])[0:array_length(c.conkey, 1) - 1] <@ c.conkey)""").fetchall()
    assert unindexed == []


def test_private_tables_are_closed(conn):
    for table in ("private.access_codes", "private.code_attempts", "private.time_zones"):
        for role in ("anon", "authenticated"):
            assert conn.execute("select has_table_privilege(%s, %s, 'select')", (role, table)).fetchone() == (False,)
