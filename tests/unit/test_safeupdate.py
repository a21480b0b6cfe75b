"""The migration check for WHERE-less UPDATE/DELETE in function bodies (what safeupdate refuses on hosted Supabase
when such a function runs through the API), parsed by PostgreSQL's own parser."""

from __future__ import annotations

from oncore_cli.local.migrate import split_statements
from oncore_cli.local.safeupdate import unguarded_writes

SOURCE = """-- Zürich, Łódź: non-ASCII before the functions must not shift lines
create function public.reset_all() returns void language plpgsql as $fn$
declare n int;
begin
  n := 1;
  update public.t set a = 1;
  if n > 0 then
    delete from public.t where id = 1;
    with gone as (delete from public.u returning 1) select count(*) into n from gone;
  end if;
  execute 'delete from public.t';
end
$fn$;
delete from public.t;
create function public.purge() returns void language sql as 'select 1;
delete from public.t';
create function public.atomic() returns void language sql begin atomic update public.t set a = 2; end;
create function private.touch() returns trigger language plpgsql security definer set search_path = '' as $$
begin
  update public.t set b = new.b where id = new.id;
  return new;
end $$;
create function public.comment_only() returns text language sql as $$ select 'delete from t' $$;
"""


def test_finds_each_where_less_write_with_its_function_and_line():
    found = [(f.line, f.function, f.command) for f in unguarded_writes(SOURCE)]
    assert found == [
        (6, "public.reset_all", "UPDATE"),
        (9, "public.reset_all", "DELETE"),  # inside a CTE
        (16, "public.purge", "DELETE"),
        (17, "public.atomic", "UPDATE"),
    ]


def test_top_level_statements_and_filtered_writes_are_not_findings():
    assert unguarded_writes("delete from t; update t set a = 1;") == []
    assert unguarded_writes("create function f() returns void language sql as 'delete from t where true';") == []


def test_a_file_that_does_not_parse_is_left_to_postgresql():
    assert unguarded_writes("create function f( returns") == []


def test_statements_split_with_their_first_line():
    statements = split_statements("-- head\ncreate table a (x int);\n\n  insert into a values (1);\n"
                                  "do $$ begin\n  perform 1;\nend $$;")
    assert [(s.line, s.sql.split()[0]) for s in statements] == [(2, "create"), (4, "insert"), (5, "do")]
    assert statements[2].sql.endswith("end $$")
