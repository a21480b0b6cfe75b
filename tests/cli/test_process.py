"""The real thing: `python -m oncore_cli` as a subprocess, with the keyring file backend chosen by environment."""

from __future__ import annotations

import json

from tests.cli.conftest import sign_up


def test_login_and_use_as_a_script_would(oncore_process, stack, unique):
    person = sign_up(stack, f"proc-{unique}@example.com")
    login = oncore_process("login", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email", person.email,
                           "--password-stdin", input=person.password + "\n")
    assert login.exit_code == 0, login
    assert login.stdout == "" and "Logged in" in login.stderr

    created = oncore_process("orgs", "create", f"Proc {unique}", "--json")
    assert created.exit_code == 0, created
    venue = oncore_process("venues", "create", f"Proc hall {unique}", "--timezone", "Europe/Paris", "--json").json
    show = oncore_process("shows", "create", "--date", "2026-11-02", "--venue", venue["id"], "--doors", "20:00",
                          "--json").json
    assert show["doors_at"] == "2026-11-02T19:00:00Z"  # Paris is UTC+1 in November

    listed = oncore_process("shows", "list", "--json")
    assert listed.exit_code == 0 and listed.stderr == ""
    assert [s["id"] for s in json.loads(listed.stdout)] == [show["id"]]
    piped = oncore_process("shows", "list")  # stdout is a pipe: tab-separated, no escape codes
    assert piped.stdout.startswith("2026-11-02\thold\t") and "\x1b[" not in piped.stdout

    token = oncore_process("auth", "token")
    assert token.exit_code == 0 and token.stdout.count(".") == 2


def test_exit_codes_reach_the_shell(oncore_process, stack):
    not_logged_in = oncore_process("shows", "list", env={"ONCORE_URL": stack.api_url,
                                                          "ONCORE_ANON_KEY": stack.anon_key})
    assert not_logged_in.exit_code == 4
    assert not_logged_in.stderr == "oncore: not logged in: run oncore login, or oncore signup for a new account\n"
    usage = oncore_process("shows", "list", "--limit", "many")
    assert usage.exit_code == 2 and usage.stderr.startswith("oncore: ") and "see oncore shows list --help" in usage.stderr
    assert oncore_process("--version").stdout.startswith("oncore ")


def test_interactive_login_prompts_on_a_terminal(stack, unique, home, keyring_file):
    """E-mail and password typed at prompts on a real pseudo-terminal; the password is not echoed."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    person = sign_up(stack, f"tty-{unique}@example.com")
    leader, follower = pty.openpty()
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
           "XDG_DATA_HOME": str(keyring_file.parent.parent / "xdg"), "TERM": "dumb"}
    proc = subprocess.Popen([sys.executable, "-m", "oncore_cli", "login", "--url", stack.api_url, "--anon-key",
                             stack.anon_key], stdin=follower, stdout=follower, stderr=follower, env=env,
                            close_fds=True)
    os.close(follower)
    seen = b""

    def read_until(marker: bytes) -> None:
        nonlocal seen
        deadline = time.monotonic() + 30
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
        assert marker in seen, seen

    try:
        read_until(b"E-mail:")
        os.write(leader, person.email.encode() + b"\r")
        # click prints "Password:", then getpass turns echo off (flushing typed-ahead input) and prints " ".
        read_until(b"Password: ")
        os.write(leader, person.password.encode() + b"\r")
        read_until(b"Logged in")
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        os.close(leader)
    assert person.password.encode() not in seen  # hidden input



def test_a_closed_pipe_is_not_an_error():
    """`oncore shows list | head`: the reader goes away mid-output; no message, exit 0 (as the root group does it)."""
    import subprocess
    import sys

    program = ("import sys\nfrom oncore_cli.core.errors import report\n"
               "try:\n    for _ in range(100000):\n        print('2026-12-10\\tconfirmed\\tPalladium\\tKöln')\n"
               "except BrokenPipeError as e:\n    sys.exit(report(e))\n")
    proc = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 0
    assert stderr == ""
