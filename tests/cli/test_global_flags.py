"""Global flags anywhere on the line, as gh takes them, and --json on every command that shows or removes data
(everyday CLI, item 4)."""

from __future__ import annotations

import json

from tests.cli.conftest import one_line_error


def test_profile_quiet_and_json_after_the_command(oncore, user, unique, login):
    login(user, profile="pm")
    assert oncore("whoami", "--profile", "pm", "--json").json["profile"] == "pm"
    assert oncore("whoami", "-p", "pm", "--json").json["profile"] == "pm"
    quiet = oncore("orgs", "create", f"Quiet {unique}", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
    loud = oncore("orgs", "create", f"Loud {unique}", "--no-use", "--json")
    assert loud.exit_code == 0 and loud.json["name"] == f"Loud {unique}"


def test_destructive_commands_print_what_they_removed_with_json(oncore, venue, org, make_user, add_member):
    show = oncore("shows", "create", "-d", "2027-04-01", "--venue", venue["id"], "--json").json
    removed = oncore("shows", "delete", show["id"][:8], "--yes", "--json")
    assert removed.exit_code == 0, removed
    assert removed.json["id"] == show["id"] and removed.json["venue_name"] == venue["name"]
    gone = oncore("venues", "delete", venue["id"], "--json", "--yes")
    assert gone.exit_code == 0 and gone.json["id"] == venue["id"]
    crew = make_user("crew")
    add_member(crew)
    left = oncore("members", "remove", crew.email, "--yes", "--json")
    assert left.exit_code == 0 and left.json["email"] == crew.email
    plain = oncore("orgs", "delete", org["slug"], "--yes")
    assert plain.exit_code == 0 and plain.stdout == ""  # without --json nothing on stdout


def test_json_and_another_format_are_refused(oncore, venue):
    one_line_error(oncore("shows", "list", "--json", "-o", "csv"), 2, "--json and --format csv exclude each other")
    one_line_error(oncore("--json", "venues", "list", "--format", "tsv"), 2, "exclude each other")
    assert json.loads(oncore("shows", "list", "-o", "json").stdout) == []


def test_export_takes_o_for_its_format_as_list_does(oncore, venue):
    oncore("shows", "create", "-d", "2027-04-02", "--venue", venue["id"], "--doors", "19:00")
    assert oncore("shows", "export", "-o", "csv").stdout.startswith("id,")
    assert oncore("shows", "export", "-f", "JSON").exit_code == 0


def test_orgs_delete_asks_for_the_slug_on_a_terminal(oncore, org):
    one_line_error(oncore("orgs", "delete", org["slug"]), 2, "--yes")


def test_orgs_delete_on_a_terminal_wants_the_slug_typed(oncore, oncore_tty, org):
    token = {"ONCORE_ACCESS_TOKEN": oncore("auth", "token").stdout.strip()}
    wrong = oncore_tty("orgs", "delete", org["slug"], input="yes\n", env=token)
    assert wrong.exit_code == 2 and f"Type {org['slug']} to confirm" in wrong.stderr
    assert f"cancelled: yes is not {org['slug']}" in wrong.stderr
    assert oncore("orgs", "show", org["slug"]).exit_code == 0  # still there
    right = oncore_tty("orgs", "delete", org["slug"], input=org["slug"] + "\n", env=token)
    assert right.exit_code == 0, right
    assert oncore("orgs", "show", org["slug"]).exit_code == 3


def test_changing_commands_print_their_result_with_json(oncore, org, user, make_user, login, add_member):
    crew = make_user("crew")
    add_member(crew)
    changed = oncore("members", "set-role", crew.email, "--role", "Admin", "--json")
    assert changed.exit_code == 0 and changed.json["role"] == "admin"
    login(user, profile="spare")
    used = oncore("profiles", "use", "spare", "--json")
    assert used.exit_code == 0 and used.json["name"] == "spare"
    assert oncore("profiles", "use", "default").exit_code == 0
    removed = oncore("profiles", "remove", "spare", "--yes", "--json")
    assert removed.exit_code == 0 and removed.json["name"] == "spare"
