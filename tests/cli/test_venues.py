"""venues list|create|show|update|delete."""

from __future__ import annotations

from tests.cli.conftest import one_line_error


def test_venue_lifecycle(oncore, org, unique):
    created = oncore("venues", "create", f"Lido {unique}", "--city", "Berlin", "--country", "de", "--timezone",
                     "Europe/Berlin", "--capacity", "1200", "--address", "Cuvrystr. 7", "--json")
    assert created.exit_code == 0, created
    venue = created.json
    assert venue["country"] == "DE" and venue["capacity"] == 1200 and venue["org_id"] == org["id"]
    assert oncore("venues", "create", "--name", f"Barrowland {unique}", "--city", "Glasgow", "--country", "GB",
                  "--timezone", "Europe/London").exit_code == 0
    listed = oncore("venues", "list")
    assert [line.split("\t")[0] for line in listed.stdout.splitlines()] == [f"Barrowland {unique}", f"Lido {unique}"]
    assert [v["name"] for v in oncore("venues", "list", "--city", "glas", "--json").json] == [f"Barrowland {unique}"]
    assert [v["name"] for v in oncore("venues", "list", "--name", "lid", "--json").json] == [f"Lido {unique}"]
    assert oncore("venues", "list", "--city", "Nowhere").stderr.strip() == "no venues found"

    shown = oncore("venues", "show", "lido", "--json")  # the start of a name is enough when unique
    assert shown.json["id"] == venue["id"]
    assert "Address\tCuvrystr. 7" in oncore("venues", "show", venue["id"][:8]).stdout

    updated = oncore("venues", "update", venue["id"], "--capacity", "1300", "--notes", "load-in via yard", "--json")
    assert updated.exit_code == 0, updated
    assert updated.json["capacity"] == 1300 and updated.json["notes"] == "load-in via yard"
    assert updated.json["city"] == "Berlin"  # untouched fields stay

    one_line_error(oncore("venues", "delete", "lido"), 2, "--yes")
    assert oncore("venues", "delete", "lido", "--yes").exit_code == 0
    one_line_error(oncore("venues", "show", "lido"), 3, "venue 'lido' not found")


def test_venue_bad_input(oncore, org, unique):
    one_line_error(oncore("venues", "create", "X", "--timezone", "Mars/Olympus"), 2, "unknown time zone 'Mars/Olympus'")
    one_line_error(oncore("venues", "create", "X", "--country", "Germany"), 2, "country")
    one_line_error(oncore("venues", "update", "nothing-like-this", "--capacity", "3"), 3, "not found")
    one_line_error(oncore("venues", "create", "--city", "Berlin"), 2, "a venue needs a name")
    assert oncore("venues", "create", "X", "--capacity", "-4").exit_code == 2  # typer's own range check
    assert oncore("venues", "list", "--json").json == []  # nothing half-written


def test_ambiguous_prefix_lists_candidates(oncore, org, unique):
    ids = [oncore("venues", "create", f"Hall {n} {unique}", "--country", "FR", "--json").json["id"] for n in range(12)]
    # Among 12 random UUIDs two share a first hex digit (pigeonhole on 16 digits needs 17: use a name prefix).
    result = oncore("venues", "show", "hall")
    one_line_error(result, 2, "ambiguous", "use a longer id prefix")
    assert "and 7 more" in result.stderr
    first = ids[0]
    assert oncore("venues", "show", first[:8], "--json").json["id"] == first


def test_city_filter_folds_case_beyond_ascii(oncore, org):
    """The database's C.UTF-8 locale (hosted Supabase's) lower-cases Ł, Ö and Ã, so ilike matches them."""
    for name, city, zone in (("Klub Wiatrak", "Łódź", "Europe/Warsaw"), ("E-Werk", "Köln", "Europe/Berlin"),
                             ("Audio Club", "São Paulo", "America/Sao_Paulo")):
        created = oncore("venues", "create", name, "--city", city, "--timezone", zone, "--json")
        assert created.exit_code == 0, created
    for query, expected in (("łódź", ["Klub Wiatrak"]), ("ŁÓDŹ", ["Klub Wiatrak"]), ("KÖLN", ["E-Werk"]),
                            ("são", ["Audio Club"]), ("SÃO PAULO", ["Audio Club"])):
        result = oncore("venues", "list", "--city", query, "--json")
        assert result.exit_code == 0, result
        assert [v["name"] for v in result.json] == expected, query
