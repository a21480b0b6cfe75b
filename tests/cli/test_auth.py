"""login / logout / whoami / auth token, tokens in the keyring, the 0600 fallback, silent refresh."""

from __future__ import annotations

import json
import os
import stat
import time
import tomllib

import keyring
import pytest
from keyring.backends import fail

from oncore_cli.local import mail
from tests.cli.conftest import one_line_error


def test_login_stores_tokens_in_the_keyring_and_the_profile_in_config(oncore, stack, make_user, home, keyring_file):
    person = make_user()
    result = oncore("login", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email", person.email,
                    "--password-stdin", input=person.password + "\n")
    assert result.exit_code == 0, result
    assert result.stdout == ""
    assert f"Logged in to {stack.api_url} as {person.email}" in result.stderr
    stored = json.loads(keyring.get_password("oncore", "default"))
    assert stored["email"] == person.email and stored["refresh_token"] and stored["expires_at"] > time.time()
    assert keyring_file.is_file()
    config = tomllib.loads((home / "config.toml").read_text())
    assert config["current"] == "default"
    assert config["profiles"]["default"] == {"url": stack.api_url, "anon_key": stack.anon_key}
    assert stat.S_IMODE((home / "config.toml").stat().st_mode) == 0o600
    assert not (home / "credentials.json").exists()  # the keyring was usable: no plaintext copy


def test_whoami_and_auth_token(oncore, user, stack):
    who = oncore("whoami", "--json")
    assert who.exit_code == 0, who
    data = who.json
    assert data["email"] == user.email and data["user_id"] == user.id and data["url"] == stack.api_url
    assert data["profile"] == "default" and data["credentials"].startswith("keyring")
    piped = oncore("whoami")
    assert f"Email\t{user.email}\n" in piped.stdout
    token = oncore("auth", "token")
    assert token.exit_code == 0 and token.stdout.count(".") == 2 and token.stdout.endswith("\n")
    assert json.loads(keyring.get_password("oncore", "default"))["access_token"] == token.stdout.strip()


def test_wrong_password_is_one_line_exit_4_and_writes_nothing(oncore, stack, make_user, home):
    person = make_user()
    result = oncore("login", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email", person.email,
                    "--password-stdin", input="not the password\n")
    one_line_error(result, 4, "wrong e-mail or password")
    assert not (home / "config.toml").exists()
    assert keyring.get_password("oncore", "default") is None


def test_commands_without_login_say_how_to_log_in(oncore, stack):
    one_line_error(oncore("orgs", "list"), 4, "not logged in: run oncore login")
    env = {"ONCORE_URL": stack.api_url, "ONCORE_ANON_KEY": stack.anon_key}
    one_line_error(oncore("orgs", "list", env=env), 4, "not logged in: run oncore login")
    one_line_error(oncore("auth", "token", env=env), 4, "not logged in: run oncore login")


def test_logout_forgets_the_tokens_and_ends_the_server_session(oncore, user, stack):
    old = json.loads(keyring.get_password("oncore", "default"))
    result = oncore("logout")
    assert result.exit_code == 0 and "Logged out" in result.stderr
    assert keyring.get_password("oncore", "default") is None
    one_line_error(oncore("orgs", "list"), 4, "not logged in")
    # the refresh token died with the server-side session
    import httpx

    refreshed = httpx.post(f"{stack.api_url}/auth/v1/token", params={"grant_type": "refresh_token"},
                           json={"refresh_token": old["refresh_token"]}, headers={"apikey": stack.anon_key})
    assert refreshed.status_code == 400
    again = oncore("logout")
    assert again.exit_code == 0 and "Not logged in" in again.stderr


def test_expired_access_token_is_refreshed_silently(oncore, user):
    stored = json.loads(keyring.get_password("oncore", "default"))
    stored["expires_at"] = int(time.time()) - 10
    keyring.set_password("oncore", "default", json.dumps(stored))
    result = oncore("orgs", "list")
    assert result.exit_code == 0, result
    assert result.stderr.strip() in ("", "no organizations: run oncore orgs create NAME")
    renewed = json.loads(keyring.get_password("oncore", "default"))
    assert renewed["refresh_token"] != stored["refresh_token"]
    assert renewed["expires_at"] > time.time()  # (the JWT itself may be byte-identical within the same second)


def test_a_session_that_cannot_be_refreshed_means_log_in_again(oncore, user):
    stored = json.loads(keyring.get_password("oncore", "default"))
    stored.update(expires_at=int(time.time()) - 10, refresh_token="revoked-token")
    keyring.set_password("oncore", "default", json.dumps(stored))
    one_line_error(oncore("orgs", "list"), 4, "not logged in: run oncore login")


def test_no_keyring_falls_back_to_a_0600_file_and_says_so_once(oncore, stack, make_user, home):
    keyring.set_keyring(fail.Keyring())
    person = make_user()
    args = ("login", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email", person.email,
            "--password-stdin")
    first = oncore(*args, input=person.password + "\n")
    assert first.exit_code == 0, first
    notices = [line for line in first.stderr.splitlines() if "no system keyring" in line]
    assert len(notices) == 1 and str(home / "credentials.json") in notices[0]
    file = home / "credentials.json"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert json.loads(file.read_text())["default"]["email"] == person.email
    later = oncore("whoami", "--json")
    assert later.exit_code == 0 and later.json["email"] == person.email
    assert "no system keyring" not in later.stderr
    assert later.json["credentials"] == str(file)
    assert oncore("logout").exit_code == 0
    assert "default" not in json.loads(file.read_text())


def test_access_token_from_the_environment_needs_no_login(oncore, user, stack):
    token = oncore("auth", "token").stdout.strip()
    keyring.delete_password("oncore", "default")  # forget the login, keep the server session
    one_line_error(oncore("whoami"), 4, "not logged in")
    env = {"ONCORE_ACCESS_TOKEN": token, "ONCORE_URL": stack.api_url, "ONCORE_ANON_KEY": stack.anon_key}
    who = oncore("whoami", "--json", env=env)
    assert who.exit_code == 0, who
    assert who.json["email"] == user.email and who.json["credentials"] == "ONCORE_ACCESS_TOKEN"


def test_login_local_reads_the_running_stack(oncore, stack, stack_home, make_user, unique, monkeypatch):
    # `--local` reads $ONCORE_HOME/local: point ONCORE_HOME at the test run's stack, leaving its config as it was.
    monkeypatch.setenv("ONCORE_HOME", str(stack_home))
    config = stack_home / "config.toml"
    before = config.read_bytes() if config.exists() else None
    person = make_user()
    profile = f"local-{unique}"
    try:
        result = oncore("--profile", profile, "login", "--local", "--email", person.email, "--password-stdin",
                        input=person.password + "\n")
        assert result.exit_code == 0, result
        who = oncore("--profile", profile, "whoami", "--json")
        assert who.json["url"] == stack.api_url and who.json["email"] == person.email
    finally:
        keyring.delete_password("oncore", profile)
        config.write_bytes(before) if before is not None else config.unlink(missing_ok=True)


def test_login_local_without_a_stack_says_start_it(oncore, home):
    one_line_error(oncore("login", "--local", "--email", "x@example.com", "--password-stdin", input="pw\n"),
                   2, "oncore local start")


def test_login_with_an_emailed_code(oncore_process, stack, make_user, home):
    import subprocess
    import sys
    from pathlib import Path

    person = make_user("otp")
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
           "XDG_DATA_HOME": str(home.parent / "xdg")}
    proc = subprocess.Popen([sys.executable, "-m", "oncore_cli", "login", "--otp", "--url", stack.api_url,
                             "--anon-key", stack.anon_key, "--email", person.email],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    outbox = Path(stack.data_dir)
    deadline = time.monotonic() + 30
    messages = []
    while not messages and time.monotonic() < deadline and proc.poll() is None:
        messages = [m for m in mail.list_messages(outbox, to=person.email) if m.get("otp")]
        time.sleep(0.05)
    assert messages, proc.communicate(timeout=5)
    out, err = proc.communicate(messages[-1]["otp"] + "\n", timeout=30)
    assert proc.returncode == 0, err
    assert f"A sign-in code was sent to {person.email}" in err and "Logged in" in err
    who = oncore_process("whoami", "--json")
    assert who.exit_code == 0, who
    assert who.json["email"] == person.email


def test_wrong_code_is_refused(oncore, stack, make_user, home):
    person = make_user("otp")
    result = oncore("login", "--otp", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email", person.email,
                    input="000000\n")
    assert result.exit_code == 4, result
    assert result.stderr.strip().splitlines()[-1].endswith("oncore: the code is wrong or has expired: run oncore login --otp again")
    assert not (home / "config.toml").exists()


@pytest.mark.parametrize("args", [("--local", "--url", "http://x"), ("--otp", "--password-stdin")])
def test_conflicting_login_flags_are_usage_errors(oncore, args):
    result = oncore("login", *args, "--email", "x@example.com")
    assert result.exit_code == 2


def test_service_role_key_serves_ci_without_a_login(oncore, org, stack, home):
    env = {"ONCORE_SERVICE_ROLE_KEY": stack.service_role_key, "ONCORE_URL": stack.api_url,
           "ONCORE_ANON_KEY": stack.anon_key, "ONCORE_PROFILE": "ci"}
    who = oncore("whoami", "--json", env=env)
    assert who.exit_code == 0 and who.json["role"] == "service_role"
    assert who.json["credentials"] == "ONCORE_SERVICE_ROLE_KEY"
    seen = oncore("api", "GET", f"/rest/v1/organizations?select=slug&id=eq.{org['id']}", env=env)
    assert seen.exit_code == 0 and json.loads(seen.stdout) == [{"slug": org["slug"]}]  # RLS bypassed


def test_two_processes_refreshing_at_once_share_one_new_pair(oncore, user, home):
    """Refresh tokens are single-use: a second refresher finds the first one's pair instead of spending the old."""
    from oncore_cli.core.context import App

    stored = json.loads(keyring.get_password("oncore", "default"))
    stored["expires_at"] = int(time.time()) - 10
    keyring.set_password("oncore", "default", json.dumps(stored))
    first, second = App(), App()
    assert first.api.session().refresh_token == second.api.session().refresh_token  # both read the stale pair
    token_one = first.api.access_token()   # refreshes
    calls = []
    send = second.api._send
    second.api._send = lambda *args, **kwargs: calls.append(args) or send(*args, **kwargs)
    token_two = second.api.access_token()  # finds the fresh pair under the lock
    assert calls == [] and token_one == token_two  # ... and spends nothing
    assert second.api.session().refresh_token == first.api.session().refresh_token != stored["refresh_token"]
    assert oncore("orgs", "list").exit_code == 0  # the stored pair still works
