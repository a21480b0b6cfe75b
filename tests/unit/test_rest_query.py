"""PostgREST query grammar → parsed request → SQL shape and bound parameters. No database."""

from __future__ import annotations

import pytest

from oncore_cli.local.gateway.rest import builder
from oncore_cli.local.gateway.rest.errors import PostgRESTError, status_for_sqlstate
from oncore_cli.local.gateway.rest.query import (Column, Embed, Filter, LogicTree, Star, parse_op_expr,
                                                 parse_order, parse_prefer, parse_query, parse_range_header,
                                                 parse_select)
from oncore_cli.local.gateway.rest.schema_cache import ColumnInfo, ForeignKey, Function, SchemaCache, Table
from oncore_cli.local.gateway.rest.wire import to_positional


# -- parsers ------------------------------------------------------------------------------------------------------

def test_select_columns_aliases_casts_and_json_paths():
    items = parse_select("id,label:title,capacity::text,meta->a->>b,x:meta->>0")
    assert items[0] == Column("id")
    assert items[1] == Column("title", alias="label")
    assert items[2] == Column("capacity", cast="text")
    assert items[3].name == "meta" and [s.arrow for s in items[3].json_path] == ["->", "->>"]
    assert items[3].output_name == "b"
    assert items[4].json_path[0].key == 0 and items[4].output_name == "x"


def test_select_embeds_with_hints_inner_and_nesting():
    items = parse_select("*,v:venues!shows_venue_fkey!inner(name,city),org:organizations(slug,venues(name))")
    assert isinstance(items[0], Star)
    venue = items[1]
    assert isinstance(venue, Embed)
    assert (venue.name, venue.alias, venue.hint, venue.join) == ("venues", "v", "shows_venue_fkey", "inner")
    assert [c.name for c in venue.select] == ["name", "city"]
    nested = items[2].select[1]
    assert isinstance(nested, Embed) and nested.name == "venues"


def test_select_spread_and_empty_embed():
    spread, empty = parse_select("...venues(name),shows()")
    assert spread.spread and spread.name == "venues"
    assert empty.select == []


@pytest.mark.parametrize("text", ["id,,name", "venues(name", "a b c(", "x:::y"])
def test_select_errors_are_pgrst100(text):
    with pytest.raises(PostgRESTError) as err:
        parse_select(text)
    assert err.value.code == "PGRST100" and err.value.status == 400


def test_aggregates_are_disabled():
    with pytest.raises(PostgRESTError) as err:
        parse_select("count()")
    assert err.value.code == "PGRST123"


@pytest.mark.parametrize("expr, op, value, negate, modifier", [
    ("eq.5", "eq", "5", False, None),
    ("not.eq.a.b", "eq", "a.b", True, None),
    ("like.*abc*", "like", "*abc*", False, None),
    ("is.NULL", "is", "null", False, None),
    ("not.is.not_null", "is", "not_null", True, None),
    ("in.(1,\"a,b\",c)", "in", ["1", "a,b", "c"], False, None),
    ("in.()", "in", [], False, None),
    ("fts(english).cat & dog", "fts", "cat & dog", False, "english"),
    ("eq(any).{a,b}", "eq", "{a,b}", False, "any"),
    ("cs.{\"k\": 1}", "cs", "{\"k\": 1}", False, None),
])
def test_filter_expressions(expr, op, value, negate, modifier):
    f = parse_op_expr("c", (), expr)
    assert (f.op, f.value, f.negate, f.modifier) == (op, value, negate, modifier)


@pytest.mark.parametrize("expr", ["noop.1", "eq", "is.maybe", "eq(some).{1}", "in.1,2"])
def test_bad_filters_are_pgrst100(expr):
    with pytest.raises(PostgRESTError) as err:
        parse_op_expr("c", (), expr)
    assert err.value.code == "PGRST100" and err.value.status == 400
    assert set(err.value.body()) == {"code", "message", "details", "hint"}


def test_query_string_classification():
    q = parse_query([("select", "id,venues(name)"), ("org_id", "eq.1"), ("venues.city", "eq.Berlin"),
                     ("or", "(a.eq.1,and(b.gt.2,b.lt.5),not.and(c.is.null,d.eq.\"x,y\"))"),
                     ("venues.order", "name.desc.nullslast"), ("venues.limit", "2"), ("limit", "20"),
                     ("offset", "40"), ("order", "date,title.desc"), ("columns", "\"a\",\"b\""),
                     ("on_conflict", "slug")])
    root, venues = q.level(()), q.level(("venues",))
    assert isinstance(root.conditions[0], Filter) and root.conditions[0].column == "org_id"
    tree = root.conditions[1]
    assert isinstance(tree, LogicTree) and tree.op == "or"
    assert tree.children[1].op == "and" and tree.children[2].negate
    assert tree.children[2].children[1].value == "x,y"
    assert (root.limit, root.offset) == (20, 40)
    assert [(t.column, t.direction) for t in root.order] == [("date", None), ("title", "desc")]
    assert venues.conditions[0].value == "Berlin" and venues.limit == 2
    assert venues.order[0].nulls == "nullslast"
    assert q.columns == ["a", "b"] and q.on_conflict == ["slug"]


def test_rpc_query_string_separates_arguments_from_filters():
    q = parse_query([("org_id", "abc"), ("status", "eq.confirmed"), ("limit", "3")], rpc=True)
    assert q.rpc_args == {"org_id": ["abc"]}
    assert q.level(()).conditions[0].column == "status"


def test_order_related_and_errors():
    (term,) = parse_order("venues(name).desc.nullsfirst")
    assert (term.relation, term.column, term.direction, term.nulls) == ("venues", "name", "desc", "nullsfirst")
    with pytest.raises(PostgRESTError):
        parse_order("name.sideways")


def test_limit_and_range():
    with pytest.raises(PostgRESTError) as err:
        parse_query([("limit", "-1")])
    assert err.value.status == 416 and err.value.code == "PGRST103"
    with pytest.raises(PostgRESTError) as err:
        parse_query([("limit", "ten")])
    assert err.value.code == "PGRST100"
    assert parse_range_header("0-9") == (0, 10)
    assert parse_range_header("5-") == (5, None)
    with pytest.raises(PostgRESTError) as err:
        parse_range_header("9-2")
    assert err.value.status == 416


def test_prefer_first_occurrence_wins_and_invalid_are_collected():
    p = parse_prefer(["return=representation,count=exact", "return=minimal, resolution=merge-duplicates",
                      "handling=strict,max-affected=5,bogus=1"])
    assert p.get("return") == "representation" and p.get("count") == "exact"
    assert p.get("resolution") == "merge-duplicates" and p.max_affected == 5
    assert p.invalid == ["bogus=1"]


@pytest.mark.parametrize("code, anonymous, status", [
    ("23505", False, 409), ("23503", False, 409), ("42501", True, 401), ("42501", False, 403),
    ("P0001", False, 400), ("22P02", False, 400), ("23514", False, 400), ("42703", False, 400),
    ("42883", False, 404), ("42P01", False, 404), ("PT402", False, 402), ("40001", False, 500),
    ("25006", False, 405), ("08006", False, 503), ("57014", False, 500), ("XX000", False, 500),
])
def test_sqlstate_status_mapping(code, anonymous, status):
    assert status_for_sqlstate(code, "boom", anonymous) == status


# -- builder ------------------------------------------------------------------------------------------------------

def _cache() -> SchemaCache:
    def table(name, cols, pk=("id",)):
        t = Table("public", name, "r", primary_key=list(pk))
        for c, typ in cols:
            t.columns[c] = ColumnInfo(c, typ, True, "gen_random_uuid()" if c == "id" else None)
        return t

    cache = SchemaCache()
    cache.tables[("public", "shows")] = table("shows", [("id", "uuid"), ("org_id", "uuid"), ("venue_id", "uuid"),
                                                         ("title", "text"), ("meta", "jsonb"), ("doc", "tsvector")])
    cache.tables[("public", "venues")] = table("venues", [("id", "uuid"), ("org_id", "uuid"), ("name", "text")])
    cache.foreign_keys.append(ForeignKey("shows_venue_fkey", "public", "shows", ["venue_id"], "public", "venues",
                                         ["id"]))
    cache.types = {"text", "int4", "uuid"}
    cache.functions[("public", "add")] = [Function("public", "add", [], "integer", False, False, False, "i")]
    return cache


def _read(params, **kw):
    stmt = builder.build_read(_cache(), "public", "shows", parse_query(params), count=kw.get("count", False),
                              shape=kw.get("shape", "array"))
    return stmt.sql_bytes().decode(), stmt.params


def test_read_binds_values_and_quotes_identifiers():
    text, params = _read([("select", "id,title"), ("org_id", "eq.x'); drop table shows; --"), ("limit", "20")])
    assert "drop table" not in text
    assert list(params.values()) == ["x'); drop table shows; --"]
    assert '"_t0"."org_id" = %(p0)s' in text
    assert "LIMIT 20" in text and "coalesce(json_agg(_p), '[]')::text" in text


def test_read_caps_rows_and_counts():
    text, _ = _read([("title", "like.A*")], count=True)
    assert "LIMIT 1000" in text
    assert "SELECT count(*) FROM" in text and '"_t0"."title" LIKE %(p0)s' in text


def test_in_filter_is_one_array_parameter():
    _, params = _read([("title", 'in.(a,"b,c",d\\"e)')])
    assert list(params.values()) == ['{"a","b,c","d\\\\\\"e"}']


def test_fts_wraps_non_tsvector_columns():
    text, params = _read([("title", "fts(english).cat"), ("doc", "wfts.dog")])
    assert "to_tsvector(%(p0)s::regconfig, \"_t0\".\"title\") @@ to_tsquery(%(p0)s::regconfig, %(p1)s)" in text
    assert '"_t0"."doc" @@ websearch_to_tsquery(%(p2)s)' in text
    assert list(params.values()) == ["english", "cat", "dog"]


def test_embeds_are_lateral_joins():
    text, params = _read([("select", "title,v:venues!inner(name)"), ("v.name", "eq.Huxleys")])
    assert "LEFT JOIN LATERAL (SELECT row_to_json(_e) AS body" in text
    assert '"_t1"."id" = "_t0"."venue_id"' in text
    assert '"_t2"."body" IS NOT NULL' in text
    assert list(params.values()) == ["Huxleys"]


def test_unknown_names_are_refused_before_sql():
    with pytest.raises(PostgRESTError) as err:
        _read([("select", "nope")])
    assert (err.value.status, err.value.code) == (400, "42703")
    with pytest.raises(PostgRESTError) as err:
        _read([("select", "title,artists(name)")])
    assert err.value.code == "PGRST200"
    with pytest.raises(PostgRESTError) as err:
        _read([("venues.name", "eq.x")])
    assert err.value.code == "PGRST108"
    with pytest.raises(PostgRESTError) as err:
        builder.build_read(_cache(), "public", "nope", parse_query([]), count=False, shape="array")
    assert (err.value.status, err.value.code) == (404, "PGRST205")
    with pytest.raises(PostgRESTError) as err:
        _read([("select", "title::faketype")])
    assert err.value.status == 400


def test_insert_update_delete_shapes():
    cache = _cache()
    m = builder.Mutation(kind="insert", payload=[{"title": "a"}], columns=["title"], representation=True,
                         resolution="merge-duplicates")
    text = builder.build_insert(cache, "public", "shows", parse_query([]), m).sql_bytes().decode()
    assert "jsonb_array_elements(%(p0)s::jsonb)" in text and "jsonb_populate_record(NULL::" in text
    assert 'ON CONFLICT ("id") DO UPDATE SET "title" = EXCLUDED."title"' in text
    with pytest.raises(PostgRESTError) as err:
        builder.build_insert(cache, "public", "shows", parse_query([]),
                             builder.Mutation(kind="insert", payload=[{"x": 1}], columns=["x"]))
    assert (err.value.status, err.value.code) == (400, "PGRST204")
    m = builder.Mutation(kind="update", payload={"title": "b"}, columns=["title"])
    text = builder.build_update(cache, "public", "shows", parse_query([("id", "eq.1")]), m).sql_bytes().decode()
    assert text.startswith("WITH pgrst_source AS (UPDATE") and "RETURNING 1" in text
    m = builder.Mutation(kind="delete", representation=True)
    text = builder.build_delete(cache, "public", "shows", parse_query([("id", "eq.1")]), m).sql_bytes().decode()
    assert 'DELETE FROM "public"."shows" AS "_t0" WHERE "_t0"."id" = %(p0)s RETURNING "_t0".*' in text


def test_named_placeholders_become_positional():
    query, names = to_positional(b"select %(p1)s, %(p0)s, %(p1)s, '100%%'")
    assert query == b"select $1, $2, $1, '100%'" and names == ("p1", "p0")


def test_one_to_one_needs_a_unique_or_primary_key_on_exactly_the_fk_columns():
    cache = _cache()
    venues, shows = cache.tables[("public", "venues")], cache.tables[("public", "shows")]
    (rel,) = cache.relationships(venues, "shows")
    assert not rel.to_one
    shows.unique_keys.append(["venue_id"])
    (rel,) = cache.relationships(venues, "shows")
    assert rel.to_one
    (back,) = cache.relationships(shows, "venues")
    assert back.to_one and back.source_columns == ["venue_id"] and back.target_columns == ["id"]


def test_verified_tokens_are_cached_but_expiry_is_rechecked(monkeypatch):
    import time

    from oncore_cli.local.gateway.jwt import encode
    from oncore_cli.local.gateway.rest.auth import Authenticator

    secret = "s" * 40
    auth = Authenticator(secret)
    assert auth.identify(None).role == "anon"
    token = encode({"role": "authenticated", "sub": "u1", "exp": int(time.time()) + 60}, secret)
    first = auth.identify(f"Bearer {token}")
    assert first.role == "authenticated" and '"sub":"u1"' in first.claims_json
    assert auth.identify(f"bearer {token}") is first
    later = time.time() + 60 + 31
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(PostgRESTError) as err:
        auth.identify(f"Bearer {token}")
    assert (err.value.status, err.value.code, err.value.message) == (401, "PGRST303", "JWT expired")
    with pytest.raises(PostgRESTError) as err:
        auth.identify("Basic dXNlcjpwYXNz")
    assert err.value.status == 401
