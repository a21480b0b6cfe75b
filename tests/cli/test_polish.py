"""Consistency and polish (everyday CLI, item 6): relative dates, case-insensitive enumerations, flags named in
field errors, confirmations that say what else goes, profiles help, one keyring notice per machine."""

from __future__ import annotations

import datetime as dt

import keyring
from keyring.backends import fail

from tests.cli.conftest import one_line_error


def test_relative_dates_and_case_insensitive_enumerations(oncore, venue):
    today = dt.date.today()
    made = oncore("shows", "create", "-d", "tomorrow", "--venue", venue["id"], "--status", "Confirmed", "--json")
    assert made.exit_code == 0, made
    assert made.json["date"] == (today + dt.timedelta(days=1)).isoformat() and made.json["status"] == "confirmed"
    assert oncore("shows", "create", "-d", "+3d", "--venue", venue["id"]).exit_code == 0
    listed = oncore("shows", "list", "--from", "today", "--to", "+2d", "--status", "CONFIRMED", "--json").json
    assert [s["date"] for s in listed] == [(today + dt.timedelta(days=1)).isoformat()]
    assert len(oncore("shows", "list", "--from", "yesterday", "--json").json) == 2
    friday = oncore("shows", "create", "-d", "fri", "--venue", venue["id"], "--json").json
    assert dt.date.fromisoformat(friday["date"]).weekday() == 4
    one_line_error(oncore("shows", "list", "--from", "someday"), 2, "bad --from date", "+3d")


def test_field_errors_name_the_flag(oncore, venue, unique):
    one_line_error(oncore("shows", "create", "-d", "2027-01-01", "--promoter-email", "nope"), 2,
                   "--promoter-email 'nope' is not an e-mail address")
    one_line_error(oncore("venues", "create", f"V {unique}", "--country", "Deutschland"), 2, "--country")
    one_line_error(oncore("members", "add", "x@example.com", "--role", "boss"), 2, "unknown role 'boss'")


def test_deleting_a_show_says_its_advancing_goes_too(oncore, venue):
    show = oncore("shows", "create", "-d", "2027-02-01", "--venue", venue["id"], "--json").json
    session = oncore("api", "POST", "/rest/v1/rpc/create_advancing_session", "-F", f"show_id={show['id']}")
    assert session.exit_code == 0, session
    asked = oncore("shows", "delete", show["id"])
    one_line_error(asked, 2, "and its 1 advancing session(s)", "--yes")
    done = oncore("shows", "delete", show["id"], "--yes")
    assert done.exit_code == 0 and "advancing session" in done.stderr


def test_profiles_help_says_how_a_profile_is_made(oncore):
    assert "oncore --profile NAME login" in oncore("profiles", "--help").stdout


def test_no_keyring_is_said_once_per_machine(oncore, make_user, login):
    keyring.set_keyring(fail.Keyring())
    first = login(make_user())
    assert "no system keyring" in first.stderr
    second = login(make_user(), profile="other")
    assert "no system keyring" not in second.stderr
