"""/rest/v1 reads through unmodified supabase-py: select grammar, embedding, filters, ordering, paging, counts,
single objects and CSV, against the real migrated schema under RLS."""

from __future__ import annotations

import uuid
from types import SimpleNamespace

import pytest
from postgrest.exceptions import APIError

from test_rest_support import client_for, make_org, make_user


@pytest.fixture(scope="module")
def world(stack):
    """Org A (owner `a`): two venues, five shows; org B (owner `b`): one venue, one show."""
    tag = uuid.uuid4().hex[:8]
    a, b = make_user(stack, "ra" + tag), make_user(stack, "rb" + tag)
    ca, cb = client_for(stack, a), client_for(stack, b)
    org_a, org_b = make_org(ca, tag, "ra"), make_org(cb, tag, "rb")
    berlin, paris = ca.table("venues").insert([
        {"org_id": org_a["id"], "name": "Huxleys", "city": "Berlin", "country": "DE", "capacity": 1600,
         "timezone": "Europe/Berlin", "contacts": [{"role": "promoter", "name": "Ann"}]},
        {"org_id": org_a["id"], "name": "Olympia", "city": "Paris", "country": "FR", "capacity": 2000,
         "timezone": "Europe/Paris", "contacts": []},
    ]).execute().data
    shows = ca.table("shows").insert([
        {"org_id": org_a["id"], "venue_id": berlin["id"], "date": "2027-03-01", "title": "Alpha", "status": "confirmed",
         "capacity": 100},
        {"org_id": org_a["id"], "venue_id": berlin["id"], "date": "2027-03-02", "title": "Beta", "status": "hold",
         "capacity": 200},
        {"org_id": org_a["id"], "venue_id": paris["id"], "date": "2027-03-03", "title": "Gamma, the third",
         "status": "confirmed", "capacity": None},
        {"org_id": org_a["id"], "venue_id": None, "date": "2027-03-04", "title": "Delta", "status": "cancelled",
         "capacity": 400},
        {"org_id": org_a["id"], "venue_id": paris["id"], "date": "2027-03-05", "title": "epsilon", "status": "hold",
         "capacity": 500, "notes": "late curfew"},
    ]).execute().data
    venue_b = cb.table("venues").insert({"org_id": org_b["id"], "name": "Paradiso", "city": "Amsterdam",
                                         "country": "NL"}).execute().data[0]
    cb.table("shows").insert({"org_id": org_b["id"], "venue_id": venue_b["id"], "date": "2027-03-01",
                              "title": "B only"}).execute()
    return SimpleNamespace(a=a, b=b, ca=ca, cb=cb, org_a=org_a, org_b=org_b, berlin=berlin, paris=paris,
                           shows=shows, stack=stack)


def titles(rows) -> list[str]:
    return [r["title"] for r in rows]


def shows_a(world):
    return world.ca.table("shows").select("title").eq("org_id", world.org_a["id"])


def test_select_columns_aliases_and_casts(world):
    rows = (world.ca.table("shows").select("name:title,capacity::text,date").eq("org_id", world.org_a["id"])
            .order("date").limit(2).execute().data)
    assert rows == [{"name": "Alpha", "capacity": "100", "date": "2027-03-01"},
                    {"name": "Beta", "capacity": "200", "date": "2027-03-02"}]


def test_json_path_select(world):
    row = (world.ca.table("venues").select("name,first:contacts->0->>name").eq("id", world.berlin["id"])
           .single().execute().data)
    assert row == {"name": "Huxleys", "first": "Ann"}


def test_many_to_one_embed_is_an_object_or_null(world):
    rows = (world.ca.table("shows").select("title,venues(name,city)").eq("org_id", world.org_a["id"])
            .order("date").execute().data)
    assert rows[0]["venues"] == {"name": "Huxleys", "city": "Berlin"}
    assert rows[3] == {"title": "Delta", "venues": None}


def test_one_to_many_embed_with_order_and_limit(world):
    rows = (world.ca.table("venues").select("name,shows(title,date)").eq("org_id", world.org_a["id"])
            .order("name").order("date", desc=True, foreign_table="shows").limit(1, foreign_table="shows")
            .execute().data)
    assert rows == [{"name": "Huxleys", "shows": [{"title": "Beta", "date": "2027-03-02"}]},
                    {"name": "Olympia", "shows": [{"title": "epsilon", "date": "2027-03-05"}]}]


def test_nested_embed_and_fk_hint(world):
    rows = (world.ca.table("organizations").select("slug,venues(name,shows!shows_venue_fkey(title))")
            .eq("id", world.org_a["id"]).execute().data)
    venues = {v["name"]: sorted(titles(v["shows"])) for v in rows[0]["venues"]}
    assert venues == {"Huxleys": ["Alpha", "Beta"], "Olympia": ["Gamma, the third", "epsilon"]}


def test_embedded_filters_keep_parents_unless_inner(world):
    left = (world.ca.table("shows").select("title,venues(city)").eq("org_id", world.org_a["id"])
            .eq("venues.city", "Paris").order("date").execute().data)
    assert len(left) == 5 and left[0]["venues"] is None and left[2]["venues"] == {"city": "Paris"}
    inner = (world.ca.table("shows").select("title,venues!inner(city)").eq("org_id", world.org_a["id"])
             .eq("venues.city", "Paris").order("date").execute().data)
    assert titles(inner) == ["Gamma, the third", "epsilon"]


def test_embedded_null_check_and_or_on_embed(world):
    no_venue = (world.ca.table("shows").select("title,venues()").eq("org_id", world.org_a["id"])
                .is_("venues", "null").execute().data)
    assert no_venue == [{"title": "Delta"}]
    rows = (world.ca.table("venues").select("name,shows(title)").eq("org_id", world.org_a["id"])
            .or_("title.eq.Alpha,title.eq.epsilon", reference_table="shows").order("name").execute().data)
    assert [(r["name"], titles(r["shows"])) for r in rows] == [("Huxleys", ["Alpha"]), ("Olympia", ["epsilon"])]


def test_ambiguous_or_missing_relationships(world):
    with pytest.raises(APIError) as err:
        world.ca.table("shows").select("title,artists(name)").execute()
    assert err.value.code == "PGRST200"


@pytest.mark.parametrize("build, expected", [
    (lambda q: q.eq("title", "Alpha"), ["Alpha"]),
    (lambda q: q.neq("status", "hold"), ["Alpha", "Gamma, the third", "Delta"]),
    (lambda q: q.gt("date", "2027-03-03"), ["Delta", "epsilon"]),
    (lambda q: q.gte("capacity", 400), ["Delta", "epsilon"]),
    (lambda q: q.lt("capacity", 200), ["Alpha"]),
    (lambda q: q.lte("date", "2027-03-01"), ["Alpha"]),
    (lambda q: q.like("title", "%eta"), ["Beta"]),
    (lambda q: q.ilike("title", "E*"), ["epsilon"]),
    (lambda q: q.is_("capacity", "null"), ["Gamma, the third"]),
    (lambda q: q.not_.is_("notes", "null"), ["epsilon"]),
    (lambda q: q.in_("title", ["Alpha", "Gamma, the third"]), ["Alpha", "Gamma, the third"]),
    (lambda q: q.not_.in_("status", ["hold", "confirmed"]), ["Delta"]),
    (lambda q: q.or_("title.eq.Alpha,capacity.gt.450"), ["Alpha", "epsilon"]),
    (lambda q: q.or_("and(status.eq.hold,capacity.lt.300),title.eq.\"Gamma, the third\""),
     ["Beta", "Gamma, the third"]),
    (lambda q: q.not_.or_("status.eq.hold,status.eq.confirmed"), ["Delta"]),
    (lambda q: q.match({"status": "hold", "capacity": 500}), ["epsilon"]),
    (lambda q: q.text_search("notes", "curfew"), ["epsilon"]),
    (lambda q: q.text_search("title", "third", options={"type": "plain", "config": "english"}),
     ["Gamma, the third"]),
    (lambda q: q.filter("title", "imatch", "^(alpha|beta)$"), ["Alpha", "Beta"]),
    (lambda q: q.like_any_of("title", "A*,B*"), ["Alpha", "Beta"]),
])
def test_filters(world, build, expected):
    rows = build(shows_a(world)).order("date").execute().data
    assert titles(rows) == expected


def test_jsonb_contains_and_overlaps(world):
    rows = (world.ca.table("venues").select("name").eq("org_id", world.org_a["id"])
            .contains("contacts", '[{"role": "promoter"}]').execute().data)
    assert rows == [{"name": "Huxleys"}]
    rows = world.ca.table("venues").select("name").contained_by("contacts", "[]").eq(
        "org_id", world.org_a["id"]).execute().data
    assert rows == [{"name": "Olympia"}]


def test_order_nulls_and_multiple_keys(world):
    first = shows_a(world).order("capacity", desc=True, nullsfirst=True).execute().data
    assert titles(first)[:2] == ["Gamma, the third", "epsilon"]
    last = shows_a(world).order("capacity", desc=False).execute().data
    assert titles(last)[-1] == "Gamma, the third"
    by_status = shows_a(world).order("status").order("title", desc=True).execute().data
    assert titles(by_status) == ["epsilon", "Beta", "Gamma, the third", "Alpha", "Delta"]


def test_related_order_on_to_one_embed(world):
    rows = (world.ca.table("shows").select("title,venues!inner(name)").eq("org_id", world.org_a["id"])
            .order("venues(name)", desc=True).order("date").execute().data)
    assert titles(rows) == ["Gamma, the third", "epsilon", "Alpha", "Beta"]


def test_range_limit_offset_and_exact_count(world):
    def counted(mode):
        return world.ca.table("shows").select("title", count=mode).eq("org_id", world.org_a["id"])

    res = counted("exact").order("date").range(1, 2).execute()
    assert titles(res.data) == ["Beta", "Gamma, the third"] and res.count == 5
    for mode in ("planned", "estimated"):
        assert counted(mode).limit(1).execute().count == 5


def test_head_count(world):
    res = world.ca.table("shows").select("*", count="exact", head=True).eq("org_id", world.org_a["id"]).execute()
    assert res.count == 5


def test_single_and_maybe_single(world):
    one = shows_a(world).eq("title", "Beta").single().execute()
    assert one.data == {"title": "Beta"}
    with pytest.raises(APIError) as err:
        shows_a(world).single().execute()
    assert err.value.code == "PGRST116"
    with pytest.raises(APIError) as err:
        shows_a(world).eq("title", "nope").single().execute()
    assert err.value.code == "PGRST116"
    assert shows_a(world).eq("title", "nope").maybe_single().execute() is None


def test_csv(world):
    text = shows_a(world).select("title,date,capacity").order("date").limit(2).csv().execute().data
    assert text.splitlines() == ["title,date,capacity", "Alpha,2027-03-01,100", "Beta,2027-03-02,200"]


def test_rls_hides_other_orgs(world):
    a_sees = {r["org_id"] for r in world.ca.table("shows").select("org_id").execute().data}
    b_sees = {r["org_id"] for r in world.cb.table("shows").select("org_id").execute().data}
    assert world.org_a["id"] in a_sees and world.org_b["id"] not in a_sees
    assert b_sees == {world.org_b["id"]}
    assert world.cb.table("shows").select("*").eq("org_id", world.org_a["id"]).execute().data == []
    assert world.cb.table("venues").select("*", count="exact").eq("id", world.berlin["id"]).execute().count == 0


def test_anon_sees_nothing(world):
    anon = client_for(world.stack)
    assert anon.table("shows").select("*").execute().data == []
    assert anon.table("organizations").select("*").execute().data == []


def test_views_and_other_tables_are_reachable(world):
    members = world.ca.table("org_members").select("role,organizations(slug)").eq(
        "org_id", world.org_a["id"]).execute().data
    assert members == [{"role": "owner", "organizations": {"slug": world.org_a["slug"]}}]


def test_spread_to_one_embed(world):
    rows = (world.ca.table("shows").select("title,...venues(city,venue:name)").eq("org_id", world.org_a["id"])
            .order("date").limit(2).execute().data)
    assert rows == [{"title": "Alpha", "city": "Berlin", "venue": "Huxleys"},
                    {"title": "Beta", "city": "Berlin", "venue": "Huxleys"}]


def test_json_path_filter_and_order(world):
    rows = (world.ca.table("venues").select("name").eq("org_id", world.org_a["id"])
            .eq("contacts->0->>name", "Ann").execute().data)
    assert rows == [{"name": "Huxleys"}]


def test_embedded_filter_by_alias_or_table_name(world):
    for key in ("v.city", "venues.city"):
        rows = (world.ca.table("shows").select("title,v:venues!inner(city)").eq("org_id", world.org_a["id"])
                .eq(key, "Berlin").order("date").execute().data)
        assert titles(rows) == ["Alpha", "Beta"], key


def test_ilike_and_lower_fold_case_beyond_ascii(stack, unique):
    """C.UTF-8, as hosted: `ilike` and `lower()` know Ł, Ö and Ã (under the C locale they matched nothing)."""
    from test_rest_support import client_for, make_org, make_user

    client = client_for(stack, make_user(stack, unique))
    org = make_org(client, unique, "utf8")
    client.table("venues").insert([{"org_id": org["id"], "name": n, "city": c} for n, c in
                                   (("Wiatrak", "Łódź"), ("E-Werk", "Köln"), ("Audio", "São Paulo"))]).execute()

    def cities(column: str, pattern: str) -> list[str]:
        rows = client.table("venues").select("city").eq("org_id", org["id"]).ilike(column, pattern).execute().data
        return [r["city"] for r in rows]

    assert cities("city", "%ŁÓDŹ%") == ["Łódź"] and cities("city", "łódź") == ["Łódź"]
    assert cities("city", "köln") == ["Köln"] and cities("city", "SÃO%") == ["São Paulo"]
    import psycopg

    with psycopg.connect(stack.db_url) as conn:
        assert conn.execute("select lower('ŁÓDŹ'), upper('köln'), lower('SÃO PAULO')").fetchone() == (
            "łódź", "KÖLN", "são paulo")
