"""Errors that name the real cause, as one line with the ladder's exit code (everyday CLI, item 3), run through
the CLI as a subprocess where the environment is the point."""

from __future__ import annotations

import base64
import json
import time

import httpx

from tests.cli.conftest import one_line_error


def _jwt(payload: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(payload)}.c2ln"


def test_server_settings_name_what_is_missing_or_wrong(oncore_process, stack):
    one_line_error(oncore_process("shows", "list", env={"ONCORE_URL": stack.api_url}), 2,
                   "ONCORE_URL is set but ONCORE_ANON_KEY is not")
    bare = stack.api_url.removeprefix("http://")
    one_line_error(oncore_process("shows", "list", env={"ONCORE_URL": bare, "ONCORE_ANON_KEY": stack.anon_key}), 2,
                   f"bad server URL {bare!r} (ONCORE_URL)", f"http://{bare}")
    one_line_error(oncore_process("login", "--url", stack.api_url, "--email", "a@example.com"), 2,
                   "--url needs --anon-key")


def test_access_token_from_the_environment_says_expired_or_malformed(oncore_process, stack):
    server = {"ONCORE_URL": stack.api_url, "ONCORE_ANON_KEY": stack.anon_key}
    one_line_error(oncore_process("shows", "list", env={**server, "ONCORE_ACCESS_TOKEN": "not-a-token"}), 4,
                   "ONCORE_ACCESS_TOKEN is malformed")
    expired = _jwt({"sub": "x", "role": "authenticated", "exp": int(time.time()) - 60})
    one_line_error(oncore_process("shows", "list", env={**server, "ONCORE_ACCESS_TOKEN": expired}), 4,
                   "ONCORE_ACCESS_TOKEN expired at")


def test_a_user_the_server_no_longer_knows_is_told_to_log_in_again(oncore, user, stack):
    deleted = httpx.delete(f"{stack.api_url}/auth/v1/admin/users/{user.id}",
                           headers={"apikey": stack.service_role_key,
                                    "Authorization": f"Bearer {stack.service_role_key}"})
    assert deleted.status_code == 200, deleted.text
    one_line_error(oncore("whoami"), 4, "does not know the user", "stack reset", "oncore login")


def test_no_org_selected_mentions_oncore_org(oncore, user, unique):
    for n in range(2):
        assert oncore("orgs", "create", f"Org {n} {unique}", "--no-use").exit_code == 0
    one_line_error(oncore("venues", "list"), 2, "oncore orgs use", "ONCORE_ORG", "--org")


def test_viewers_are_told_which_role_writing_needs(oncore, org, venue, make_user, add_member):
    crew = make_user("crew")
    as_viewer = ("--profile", add_member(crew, "viewer"), "--org", org["slug"])
    one_line_error(oncore("shows", "create", "-d", "2027-01-01", *as_viewer), 4,
                   "writing shows needs the member role or higher")
    assert oncore("shows", "create", "-d", "2027-01-01", "--json").exit_code == 0
    one_line_error(oncore("shows", "update", "2027-01-01", "--title", "x", *as_viewer), 4, "member role or higher")
    one_line_error(oncore("shows", "delete", "2027-01-01", "--yes", *as_viewer), 4, "member role or higher")


def test_short_prefixes_bad_days_and_typos(oncore, venue):
    created = oncore("shows", "create", "-d", "2027-01-02", "--venue", venue["id"], "--json").json
    one_line_error(oncore("shows", "show", created["id"][:3]), 2, "too short", "at least 4 characters")
    one_line_error(oncore("shows", "create", "-d", "2027-02-30"), 2, "February 2027 has no day 30")
    one_line_error(oncore("show", "list"), 2, "unknown command 'show'", "did you mean shows")
    one_line_error(oncore("venue"), 2, "did you mean venues")
    one_line_error(oncore("org", "list"), 2, "did you mean orgs")
    one_line_error(oncore("shows", "lst"), 2, "did you mean list")
    # click's own parse errors read like oncore's: one line, no "Usage:"/"Error:" block
    one_line_error(oncore("shows", "create"), 2, "missing option '--date'", "see oncore shows create --help")
    one_line_error(oncore("shows", "list", "--limit", "x"), 2, "'x' is not a valid integer")
