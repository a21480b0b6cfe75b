import json
import stat
import threading
import time

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring

from oncore_cli.core.credentials import CredentialStore, Session


class HangingKeyring(KeyringBackend):
    """A secret service that never answers (a locked desktop keyring over a dead D-Bus)."""

    priority = 1
    release = threading.Event()

    def get_password(self, service, username):
        self.release.wait(10)

    set_password = delete_password = get_password


@pytest.fixture
def restore_keyring():
    previous = keyring.get_keyring()
    yield
    HangingKeyring.release.set()
    keyring.set_keyring(previous)


def _session():
    return Session("access", "refresh", int(time.time()) + 3600, "uid", "a@example.com")


def test_keyring_round_trip(tmp_path, restore_keyring, monkeypatch):
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")  # chosen on purpose
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "kr.cfg")
    keyring.set_keyring(backend)
    store = CredentialStore(tmp_path)
    store.set("p", _session())
    assert CredentialStore(tmp_path).get("p") == _session()
    assert not (tmp_path / "credentials.json").exists()
    assert store.delete("p") and store.get("p") is None


def test_a_plaintext_keyring_nobody_chose_is_not_used(tmp_path, restore_keyring, monkeypatch, capsys):
    # keyring falls back to keyrings.alt's plaintext file when no OS keyring exists; tokens must not land there.
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-keyringrc"))
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "kr.cfg")
    keyring.set_keyring(backend)
    store = CredentialStore(tmp_path)
    store.set("p", _session())
    assert not (tmp_path / "kr.cfg").exists()
    assert stat.S_IMODE((tmp_path / "credentials.json").stat().st_mode) == 0o600
    assert "no system keyring available" in capsys.readouterr().err


def test_hanging_keyring_times_out_to_the_file(tmp_path, restore_keyring, monkeypatch, capsys):
    monkeypatch.setenv("ONCORE_KEYRING_TIMEOUT", "0.2")
    keyring.set_keyring(HangingKeyring())
    store = CredentialStore(tmp_path)
    started = time.monotonic()
    store.set("p", _session())
    assert time.monotonic() - started < 5
    file = tmp_path / "credentials.json"
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert json.loads(file.read_text())["p"]["refresh_token"] == "refresh"
    assert capsys.readouterr().err.count("no system keyring available") == 1
    store.set("p", _session())  # a refresh: said once already
    assert capsys.readouterr().err == ""


def test_unreadable_entries_are_ignored(tmp_path, restore_keyring):
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    (tmp_path / "credentials.json").write_text('{"p": {"nonsense": true}}')
    assert CredentialStore(tmp_path).get("p") is None
