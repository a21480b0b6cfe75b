"""orgs and members against the local stack, as the owner and as other roles."""

from __future__ import annotations

import re
import tomllib

from tests.cli.conftest import one_line_error

ANSI = re.compile(r"\x1b\[[0-9;]*m")
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|9[0-7]|38;[0-9;]+)m")


def test_create_list_show_use(oncore, user, unique, home):
    created = oncore("orgs", "create", f"Northern Lights {unique}", "--json")
    assert created.exit_code == 0, created
    org = created.json
    assert org["slug"] == f"northern-lights-{unique}" and org["name"] == f"Northern Lights {unique}"
    assert f"Created organization Northern Lights {unique}" in created.stderr
    assert tomllib.loads((home / "config.toml").read_text())["profiles"]["default"]["org"] == org["slug"]

    piped = oncore("orgs", "list")
    assert piped.stdout == f"{org['slug']}\t{org['name']}\t{org['id']}\n"  # tab-separated, no header, no colour
    table = oncore("orgs", "list", tty=True)
    assert not COLOUR.search(table.stdout)  # NO_COLOR: colour goes, structure (bold header) stays
    lines = ANSI.sub("", table.stdout).splitlines()
    assert lines[0].split() == ["SLUG", "NAME", "ID"]
    assert lines[1].startswith("*") and org["slug"] in lines[1]
    coloured = oncore("orgs", "list", tty=True, env={"NO_COLOR": "", "FORCE_COLOR": "1"})
    assert ANSI.sub("", coloured.stdout) == ANSI.sub("", table.stdout)
    as_json = oncore("orgs", "list", "--json")
    assert [o["id"] for o in as_json.json] == [org["id"]]
    assert set(as_json.json[0]) == {"id", "name", "slug", "created_at", "default"}
    ndjson = oncore("orgs", "list", "--format", "ndjson")
    assert len(ndjson.stdout.splitlines()) == 1 and '"slug"' in ndjson.stdout
    csv = oncore("orgs", "list", "--format", "csv")
    assert csv.stdout.splitlines()[0] == "id,name,slug,created_at,default"

    shown = oncore("orgs", "show", org["id"][:8], "--json")
    assert shown.exit_code == 0 and shown.json["slug"] == org["slug"]

    second = oncore("orgs", "create", f"Second {unique}", "--slug", f"second-{unique}", "--no-use", "--json").json
    assert oncore("orgs", "show", "--json").json["id"] == org["id"]  # still the default
    used = oncore("orgs", "use", second["slug"])
    assert used.exit_code == 0 and "Default organization" in used.stderr
    assert oncore("orgs", "show", "--json").json["id"] == second["id"]
    env_org = oncore("orgs", "show", "--json", env={"ONCORE_ORG": org["slug"]})
    assert env_org.json["id"] == org["id"]  # environment beats the profile


def test_rename_and_delete(oncore, org, unique):
    renamed = oncore("orgs", "rename", org["slug"], "Renamed Tour", "--slug", f"renamed-{unique}", "--json")
    assert renamed.exit_code == 0, renamed
    assert renamed.json["name"] == "Renamed Tour" and renamed.json["slug"] == f"renamed-{unique}"
    assert oncore("orgs", "show", "--json").json["slug"] == f"renamed-{unique}"  # the default followed

    refused = oncore("orgs", "delete", f"renamed-{unique}")  # no terminal to ask on and no --yes
    one_line_error(refused, 2, "--yes")
    assert oncore("orgs", "show", f"renamed-{unique}").exit_code == 0
    deleted = oncore("orgs", "delete", f"renamed-{unique}", "--yes")
    assert deleted.exit_code == 0, deleted
    one_line_error(oncore("orgs", "show", f"renamed-{unique}"), 3, "not found")


def test_duplicate_slug_is_a_conflict(oncore, org, unique):
    one_line_error(oncore("orgs", "create", "Another", "--slug", org["slug"]), 5, "already taken")


def test_bad_slug_is_bad_input(oncore, user):
    one_line_error(oncore("orgs", "create", "Bad", "--slug", "Not A Slug"), 2, "slug")


def test_unknown_org_is_not_found(oncore, org):
    one_line_error(oncore("orgs", "show", "no-such-org"), 3, "organization 'no-such-org' not found")
    one_line_error(oncore("shows", "list", "--org", "no-such-org"), 3, "not found")


def test_no_default_org_with_two_orgs_says_what_to_do(oncore, user, unique):
    for n in (1, 2):
        assert oncore("orgs", "create", f"Org {n} {unique}", "--no-use").exit_code == 0
    one_line_error(oncore("venues", "list"), 2, "oncore orgs use")


def test_members_add_list_set_role_remove(oncore, org, make_user, login):
    crew = make_user("crew")
    added = oncore("members", "add", crew.email, "--role", "viewer", "--json")
    assert added.exit_code == 0, added
    assert (added.json["role"], added.json["email"]) == ("viewer", crew.email) and "user_id" not in added.json
    assert f"Invited {crew.email} to {org['slug']} as viewer" in added.stderr
    assert f"oncore orgs accept {org['slug']}" in added.stderr
    waiting = oncore("members", "list")
    assert crew.email not in waiting.stdout  # not a member until they accept
    assert f"Invited, not yet accepted: {crew.email} (viewer)" in waiting.stderr

    login(crew, profile="crew")
    as_viewer = ("--profile", "crew")
    mine = oncore(*as_viewer, "orgs", "invitations", "--json")
    assert [(i["org_slug"], i["role"]) for i in mine.json] == [(org["slug"], "viewer")]
    accepted = oncore(*as_viewer, "orgs", "accept", org["slug"])
    assert accepted.exit_code == 0 and f"as viewer" in accepted.stderr, accepted
    assert "no pending invitations" in oncore(*as_viewer, "orgs", "invitations").stderr + \
        oncore(*as_viewer, "orgs", "invitations").stdout
    one_line_error(oncore(*as_viewer, "orgs", "accept", org["slug"]), 3, "invitation")
    listed = oncore("members", "list", "--json").json
    assert [(m["role"], m["email"]) for m in listed][1] == ("viewer", crew.email)
    assert listed[0]["role"] == "owner"
    piped = oncore("members", "list")
    assert f"{crew.email}\tviewer\t{crew.id}\n" in piped.stdout

    # what a viewer may not do, refused plainly by RLS
    assert oncore(*as_viewer, "orgs", "use", org["slug"]).exit_code == 0
    one_line_error(oncore(*as_viewer, "venues", "create", "Nope", "--timezone", "Europe/Berlin"), 4, "permission denied")
    one_line_error(oncore(*as_viewer, "orgs", "rename", org["slug"], "Mine"), 4, "permission denied")

    changed = oncore("members", "set-role", crew.email, "--role", "member")
    assert changed.exit_code == 0 and f"{crew.email} is now member" in changed.stderr
    created = oncore(*as_viewer, "venues", "create", f"Allowed {crew.id[:6]}", "--country", "FR", "--json")
    assert created.exit_code == 0, created

    one_line_error(oncore("members", "remove", crew.email), 2, "--yes")
    assert oncore("members", "remove", crew.id[:8], "--yes").exit_code == 0
    assert crew.email not in oncore("members", "list").stdout
    one_line_error(oncore(*as_viewer, "venues", "list"), 3, "not found")  # gone from the org


def test_members_bad_input(oncore, org):
    # an address without an account gets an invitation like any other: no oracle for who has an account
    invited = oncore("members", "add", "nobody-here@example.com", "--role", "member")
    assert invited.exit_code == 0 and "Invited nobody-here@example.com" in invited.stderr, invited
    one_line_error(oncore("members", "add", "not an address", "--role", "member"), 2, "not an e-mail address")
    one_line_error(oncore("members", "add", "x@example.com", "--role", "boss"), 2, "unknown role 'boss'")
    one_line_error(oncore("members", "set-role", "stranger@example.com", "--role", "admin"), 3, "member")
    one_line_error(oncore("members", "remove", "--yes", "stranger@example.com"), 3, "member")
    # the last owner cannot leave
    owner = oncore("members", "list", "--json").json[0]
    one_line_error(oncore("members", "set-role", owner["email"], "--role", "admin"), 2, "at least one owner")
