"""Failure modes that are not about one noun: a server that is down, debugging, profiles, piping."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

from tests.cli.conftest import one_line_error


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_down_is_one_actionable_line(oncore, user, stack):
    url = f"http://127.0.0.1:{_closed_port()}"
    result = oncore("shows", "list", env={"ONCORE_URL": url})
    one_line_error(result, 1, f"cannot reach {url}", "oncore local start")


def test_login_to_a_server_that_is_down(oncore, make_user, home, stack):
    url = f"http://127.0.0.1:{_closed_port()}"
    person = make_user()
    result = oncore("login", "--url", url, "--anon-key", stack.anon_key, "--email", person.email, "--password-stdin",
                    input=person.password + "\n")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip().splitlines()[-1].startswith("oncore: ")
    assert not (home / "config.toml").exists()


def test_debug_shows_the_traceback_without_locals(oncore, user):
    url = f"http://127.0.0.1:{_closed_port()}"
    result = oncore("orgs", "list", env={"ONCORE_URL": url, "ONCORE_DEBUG": "1"})
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr and "TransportError" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(f"oncore: cannot reach {url}")
    assert "access_token" not in result.stderr  # no locals, so no secrets


def test_bad_url_at_login(oncore, stack):
    one_line_error(oncore("login", "--url", "ftp://x", "--anon-key", "k", "--email", "a@b.c", "--password-stdin",
                          input="pw\n"), 2, "bad URL")


def test_password_prompt_needs_a_terminal(oncore, stack):
    one_line_error(oncore("login", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email", "a@example.com"),
                   2, "--password-stdin")


def test_profiles_list_use_show_remove(oncore, user, make_user, login, stack, unique):
    second = make_user()
    login(second, profile="staging")
    listed = oncore("profiles", "list", "--json").json
    assert [(p["name"], p["current"]) for p in listed] == [("default", True), ("staging", False)]
    shown = oncore("profiles", "show", "staging", "--json").json
    assert shown["logged_in_as"] == second.email and shown["url"] == stack.api_url
    assert shown["anon_key"] != stack.anon_key and shown["anon_key"].endswith(stack.anon_key[-4:])  # masked
    assert stack.anon_key not in oncore("profiles", "show", "staging").stdout
    assert oncore("profiles", "use", "staging").exit_code == 0
    assert oncore("whoami", "--json").json["email"] == second.email
    assert oncore("whoami", "--json", env={"ONCORE_PROFILE": "default"}).json["email"] == user.email
    assert oncore("--profile", "default", "whoami", "--json").json["email"] == user.email
    one_line_error(oncore("profiles", "use", "nope"), 3, "profile 'nope' not found")
    one_line_error(oncore("profiles", "remove", "staging"), 2, "--yes")
    assert oncore("profiles", "remove", "staging", "--yes").exit_code == 0
    assert [p["name"] for p in oncore("profiles", "list", "--json").json] == ["default"]
    assert oncore("whoami", "--json").json["email"] == user.email  # staging was current: back to default
    one_line_error(oncore("--profile", "staging", "whoami"), 4, "not logged in")  # its tokens are gone


def test_global_json_flag_and_quiet(oncore, org):
    result = oncore("--json", "orgs", "list")
    assert result.json[0]["id"] == org["id"]
    quiet = oncore("--quiet", "orgs", "create", "Quiet One", "--no-use")
    assert quiet.exit_code == 0 and quiet.stderr == "" and quiet.stdout == ""
    created = oncore("--json", "orgs", "create", "Global Json", "--no-use")
    assert created.exit_code == 0 and created.json["name"] == "Global Json"


def test_version_and_help(oncore):
    from oncore_cli import __version__

    version = oncore("--version").stdout.splitlines()
    assert version[0] == f"oncore {__version__}"
    assert version[1].startswith(f"Python {sys.version.split()[0]} (")
    assert version[2] == f"local stack data: {Path(os.environ['ONCORE_HOME']) / 'local'}"
    help_text = oncore("--help").stdout
    for noun in ("login", "whoami", "profiles", "orgs", "members", "venues", "shows", "api", "completion", "local"):
        assert f"\n  {noun} " in help_text
    assert "Examples:" in oncore("shows", "create", "--help").stdout
    assert "Examples:" in oncore("login", "--help").stdout


def test_every_verb_has_an_example_in_its_help(oncore):
    from oncore_cli.core.completion import tree

    verbs = [node.path for node in tree() if not node.subcommands and node.path
             and not node.path.startswith("local")]  # `oncore local` is documented by its own module
    assert len(verbs) > 30
    missing = [path for path in verbs if "Examples:" not in oncore(*path.split(), "--help").stdout]
    assert missing == []
