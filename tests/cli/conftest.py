"""CLI test harness: `oncore(*args)` runs the command in-process (Typer's CliRunner), like httpie's `http()`,
against the test run's local stack; `oncore_process(*args)` runs `python -m oncore_cli` as a real subprocess.

Each test gets its own ONCORE_HOME and a real keyring backend (keyrings.alt's plaintext file) in a temp directory,
NO_COLOR set and a fixed width. Users sign up through the stack's /auth/v1 and log in through `oncore login`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring
from typer.testing import CliRunner

PASSWORD = "correct horse battery"
CLEAN_ENV = ("ONCORE_PROFILE", "ONCORE_URL", "ONCORE_ANON_KEY", "ONCORE_ACCESS_TOKEN", "ONCORE_SERVICE_ROLE_KEY",
             "ONCORE_ORG", "ONCORE_DEBUG", "TTY_COMPATIBLE", "FORCE_COLOR", "PYTHON_KEYRING_BACKEND")


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)

    def __repr__(self) -> str:
        return f"<exit {self.exit_code}\nstdout: {self.stdout}\nstderr: {self.stderr}>"


@dataclass
class User:
    email: str
    password: str
    id: str


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ONCORE_HOME and a keyring file in a temp dir."""
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("ONCORE_HOME", str(path))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    # keyrings.alt's file backend, chosen on purpose (as a user's keyringrc would), so oncore uses it.
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield path
    keyring.set_keyring(previous)


@pytest.fixture
def keyring_file(home: Path) -> Path:
    return Path(keyring.get_keyring().file_path)


@pytest.fixture
def oncore(home):
    """Run `oncore ARGS` in-process; `tty=True` makes stdout count as a terminal (as rich decides it)."""
    from oncore_cli.app import app

    def run(*args: str, input: str | None = None, tty: bool = False, env: dict | None = None) -> Result:
        runner = CliRunner()
        environ = {"TTY_COMPATIBLE": "1" if tty else "0", **(env or {})}
        result = runner.invoke(app, [str(a) for a in args], input=input, env=environ, catch_exceptions=False,
                               prog_name="oncore")
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


@pytest.fixture
def oncore_process(home, keyring_file):
    """Run `python -m oncore_cli ARGS` as a subprocess with the same home and keyring file."""

    def run(*args: str, input: str | None = None, env: dict | None = None) -> Result:
        environ = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
                   "XDG_DATA_HOME": str(keyring_file.parent.parent / "xdg"), **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "oncore_cli", *map(str, args)], input=input, env=environ,
                              capture_output=True, text=True, timeout=60)
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


@pytest.fixture
def oncore_tty(home, keyring_file):
    """Run `python -m oncore_cli ARGS` with stdin and stdout on a pseudo-terminal `width` columns wide (stderr
    piped apart), as a person at a terminal runs it; `input` is typed into the terminal."""
    import fcntl
    import pty
    import struct
    import termios

    def run(*args: str, width: int = 80, input: str | None = None, env: dict | None = None) -> Result:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, width, 0, 0))
        environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TTY_COMPATIBLE")}
        environ.update({"PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring", "TERM": "xterm",
                        "XDG_DATA_HOME": str(keyring_file.parent.parent / "xdg"), **(env or {})})
        proc = subprocess.Popen([sys.executable, "-m", "oncore_cli", *map(str, args)], stdin=slave, stdout=slave,
                                stderr=subprocess.PIPE, env=environ, close_fds=True)
        os.close(slave)
        if input is not None:
            os.write(master, input.encode())
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(master)
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
        proc.wait(timeout=60)
        stdout = b"".join(chunks).decode().replace("\r\n", "\n")
        if input:
            stdout = stdout.replace(input.replace("\r", "\n").replace("\n\n", "\n"), "", 1)  # the echo
        return Result(proc.returncode, stdout, stderr)

    return run


def sign_up(stack, email: str, password: str = PASSWORD) -> User:
    response = httpx.post(f"{stack.api_url}/auth/v1/signup", json={"email": email, "password": password},
                          headers={"apikey": stack.anon_key})
    assert response.status_code == 200, response.text
    body = response.json()
    return User(email, password, (body.get("user") or body)["id"])


@pytest.fixture
def make_user(stack, unique):
    counter = iter(range(100))

    def make(prefix: str = "tm") -> User:
        return sign_up(stack, f"{prefix}-{unique}-{next(counter)}@example.com")

    return make


@pytest.fixture
def login(oncore, stack):
    def run(user: User, *extra: str, profile: str | None = None) -> Result:
        result = oncore(*(("--profile", profile) if profile else ()), "login", "--url", stack.api_url, "--anon-key", stack.anon_key, "--email", user.email,
                        "--password-stdin", *extra, input=user.password + "\n")
        assert result.exit_code == 0, result
        return result

    return run


@pytest.fixture
def add_member(oncore, login, org):
    """Invite `person` to `org` with `role` and accept as them (profile `m-<email>`): members join by invitation."""

    def add(person: User, role: str = "member") -> str:
        assert oncore("members", "add", person.email, "--role", role).exit_code == 0
        profile = "m-" + person.email.split("@")[0]
        login(person, profile=profile)
        accepted = oncore("--profile", profile, "orgs", "accept", org["slug"])
        assert accepted.exit_code == 0, accepted
        return profile

    return add


@pytest.fixture
def user(make_user, login) -> User:
    """A signed-up user, logged in with the default profile."""
    person = make_user()
    login(person)
    return person


@pytest.fixture
def org(oncore, user, unique) -> dict:
    """An organization owned by `user`, the profile's default."""
    result = oncore("orgs", "create", f"Tour {unique}", "--slug", f"tour-{unique}", "--json")
    assert result.exit_code == 0, result
    return result.json


@pytest.fixture
def venue(oncore, org, unique) -> dict:
    result = oncore("venues", "create", f"Columbiahalle {unique}", "--city", "Berlin", "--country", "DE",
                    "--timezone", "Europe/Berlin", "--capacity", "3500", "--json")
    assert result.exit_code == 0, result
    return result.json


def one_line_error(result: Result, code: int, *fragments: str) -> None:
    """The contract for every failure: the exit code, nothing on stdout, one `oncore: …` line on stderr."""
    assert result.exit_code == code, result
    assert result.stdout == "", result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("oncore: "), result
    for fragment in fragments:
        assert fragment in lines[0], result
