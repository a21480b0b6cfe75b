"""Show times never shift unless the user changes them (issue: everyday CLI, item 1), through the CLI."""

from __future__ import annotations

from tests.cli.conftest import one_line_error


def _ok(result):
    assert result.exit_code == 0, result
    return result


def _doors_curfew(oncore, ref):
    lines = dict(line.split("\t", 1) for line in oncore("shows", "show", ref).stdout.splitlines())
    return lines["Doors"], lines["Curfew"], lines["Timezone"]


def test_venue_zone_is_given_or_inferred_without_doubt(oncore, org, unique):
    one_line_error(oncore("venues", "create", f"No TZ {unique}", "--city", "Berlin"), 2,
                   "needs --timezone", "Berlin is probably Europe/Berlin")
    one_line_error(oncore("venues", "create", f"Sala {unique}", "--city", "Madrid", "--country", "ES"), 2,
                   "ES has more than one time zone", "Europe/Madrid, Africa/Ceuta, Atlantic/Canary")
    inferred = _ok(oncore("venues", "create", f"Halle {unique}", "--city", "Köln", "--country", "de", "--json"))
    assert inferred.json["timezone"] == "Europe/Berlin"  # Büsingen keeps Berlin's clock: no doubt
    assert [v["name"] for v in oncore("venues", "list", "--json").json] == [f"Halle {unique}"]  # nothing half-made


def test_correcting_a_venue_zone_or_deleting_the_venue_keeps_local_times(oncore, org, unique):
    _ok(oncore("venues", "create", f"Wrong {unique}", "--city", "Berlin", "--timezone", "America/New_York"))
    show = _ok(oncore("shows", "create", "-d", "2027-03-14", "--venue", f"Wrong {unique}", "--doors", "19:00",
                      "--curfew", "23:00", "--json")).json
    fixed = _ok(oncore("venues", "update", f"Wrong {unique}", "--timezone", "Europe/Berlin"))
    assert "1 show(s) keep their local times, now in Europe/Berlin" in fixed.stderr
    assert _doors_curfew(oncore, show["id"]) == ("19:00", "23:00", "Europe/Berlin")

    asked = oncore("venues", "delete", f"Wrong {unique}")
    one_line_error(asked, 2, "its 1 show(s) on 2027-03-14 stay, without a venue, at the same local times", "--yes")
    _ok(oncore("venues", "delete", f"Wrong {unique}", "--yes"))
    assert _doors_curfew(oncore, show["id"]) == ("19:00", "23:00", "Europe/Berlin")


def test_a_show_without_venue_needs_a_zone(oncore, org):
    one_line_error(oncore("shows", "create", "-d", "2027-03-14", "--doors", "19:00"), 2,
                   "show times need a time zone", "--timezone")
    show = _ok(oncore("shows", "create", "-d", "2027-03-14", "--doors", "19:00", "--tz", "Europe/Lisbon",
                      "--json")).json
    assert show["timezone"] == "Europe/Lisbon" and show["doors_at"] == "2027-03-14T19:00:00Z"
    _ok(oncore("shows", "create", "-d", "2027-03-15", "--title", "day off"))  # no times: no zone needed


def test_night_order_and_clock_changes(oncore, venue):
    lone = _ok(oncore("shows", "create", "-d", "2027-03-13", "--venue", venue["id"], "--curfew", "01:00", "--json"))
    assert lone.json["curfew_at"] == "2027-03-14T00:00:00Z"  # the show's night, not the morning before

    jumped = _ok(oncore("shows", "create", "-d", "2027-03-20", "--venue", venue["id"], "--load-in", "14:00",
                        "--doors", "13:00", "--json"))
    assert "--doors 13:00 is before --load-in 14:00, so it is taken as 13:00 on 2027-03-21" in jumped.stderr
    assert jumped.json["doors_at"] == "2027-03-21T12:00:00Z"

    before = oncore("shows", "list", "--json").json
    one_line_error(oncore("shows", "create", "-d", "2027-03-22", "--venue", venue["id"], "--load-in", "14:00",
                          "--doors", "13:00", "--curfew", "12:00"), 2, "--curfew 12:00 would fall 2 days after")
    one_line_error(oncore("shows", "create", "-d", "2027-03-27", "--venue", venue["id"], "--doors", "20:00",
                          "--curfew", "02:30"), 2, "--curfew 02:30 does not exist on 2027-03-28 in Europe/Berlin",
                   "use 03:30")
    one_line_error(oncore("shows", "create", "-d", "2027-10-30", "--venue", venue["id"], "--doors", "20:00",
                          "--curfew", "02:30"), 2, "happens twice on 2027-10-31", "2027-10-31T02:30+02:00")
    assert oncore("shows", "list", "--json").json == before  # refused means nothing written
    exact = _ok(oncore("shows", "create", "-d", "2027-10-30", "--venue", venue["id"], "--doors", "20:00",
                       "--curfew", "2027-10-31T02:30+01:00", "--json"))
    assert exact.json["curfew_at"] == "2027-10-31T01:30:00Z"


def test_twins_are_accepted_with_a_warning_and_named_in_ambiguity(oncore, venue, unique):
    twin = _ok(oncore("venues", "create", venue["name"], "--city", "berlin", "--country", "DE"))
    assert f"there is already a venue {venue['name']!r} in berlin" in twin.stderr
    _ok(oncore("shows", "create", "-d", "2027-05-01", "--venue", venue["id"], "--title", "Matinee"))
    second = _ok(oncore("shows", "create", "-d", "2027-05-01", "--venue", venue["id"], "--title", "Evening"))
    assert f"{venue['name']} already has a show on 2027-05-01" in second.stderr and "matinee" in second.stderr
    one_line_error(oncore("shows", "show", "2027-05-01"), 2, "ambiguous", f"2027-05-01 {venue['name']} Matinee")


def test_times_survive_a_deleted_venue_on_a_terminal_and_in_a_pipe(oncore, oncore_tty, oncore_process, org, unique):
    """The headline case as a person (a terminal 80 columns wide) and a script (a pipe) see it."""
    _ok(oncore("venues", "create", f"Palladium {unique}", "--city", "Köln", "--country", "DE"))
    _ok(oncore("shows", "create", "-d", "2027-03-14", "--venue", f"Palladium {unique}", "--status", "confirmed",
               "--doors", "19:00", "--curfew", "23:00"))
    _ok(oncore("venues", "delete", f"Palladium {unique}", "--yes"))
    token = {"ONCORE_ACCESS_TOKEN": oncore("auth", "token").stdout.strip()}
    table = oncore_tty("shows", "list", width=80, env=token)
    assert table.exit_code == 0, table
    row = next(line for line in table.stdout.splitlines() if "2027-03-14" in line)
    assert "19:00" in row and "23:00" in row and "UTC" not in row
    piped = oncore_process("shows", "list", env=token).stdout.split("\t")
    assert piped[:2] == ["2027-03-14", "confirmed"] and piped[4:6] == ["19:00", "23:00"]
