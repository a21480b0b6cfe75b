"""Where sessions (access token, refresh token, expiry) are kept: the system keyring, one entry per profile
under the service "oncore"; or, where no usable keyring exists (headless CI), `$ONCORE_HOME/credentials.json`
readable by its owner only. Keyring calls run in a thread with a timeout, as gh does, so a locked or hung
secret service cannot freeze the CLI."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from oncore_cli.core.config import ENV_KEYRING_TIMEOUT, env, write_private

SERVICE = "oncore"
FALLBACK_FILE = "credentials.json"


@dataclass
class Session:
    access_token: str
    refresh_token: str | None
    expires_at: int          # unix seconds
    user_id: str | None = None
    email: str | None = None

    def expires_within(self, seconds: float) -> bool:
        return self.expires_at - time.time() < seconds

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Session | None":
        try:
            data = json.loads(text)
            return cls(access_token=data["access_token"], refresh_token=data.get("refresh_token"),
                       expires_at=int(data.get("expires_at") or 0), user_id=data.get("user_id"),
                       email=data.get("email"))
        except (ValueError, KeyError, TypeError):
            return None


class KeyringUnavailable(Exception):
    pass


def _timeout() -> float:
    try:
        return float(env(ENV_KEYRING_TIMEOUT) or 3.0)
    except ValueError:
        return 3.0


def _with_timeout(fn, *args):
    """Run a keyring call in a daemon thread; a backend that hangs past the timeout counts as unavailable."""
    result: dict = {}

    def target():
        try:
            result["value"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - any backend failure means "use the file"
            result["error"] = e

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(_timeout())
    if thread.is_alive():
        raise KeyringUnavailable("the keyring did not answer in time")
    if "error" in result:
        raise KeyringUnavailable(str(result["error"])) from result["error"]
    return result.get("value")


def _usable_backend():
    import keyring
    from keyring.backends import fail

    backend = keyring.get_keyring()
    names = {type(backend).__module__ + "." + type(backend).__name__}
    if isinstance(backend, fail.Keyring) or "keyring.backends.null.Keyring" in names:
        return None
    if hasattr(backend, "backends"):  # a chainer writes to its first backend
        if not backend.backends:
            return None
        backend = backend.backends[0]
    if backend.priority < 1 and not _explicitly_chosen():
        # keyrings.alt's plaintext file and other stand-ins keyring merely falls back to: our 0600 file is no worse
        # and says where it is; a backend the user configured on purpose is honoured.
        return None
    return keyring


def _explicitly_chosen() -> bool:
    from keyring import core

    try:
        return bool(core.load_env() or core.load_config())
    except Exception:  # noqa: BLE001 - a broken keyring config means "not chosen"
        return False


class CredentialStore:
    def __init__(self, home: Path) -> None:
        self.file = home / FALLBACK_FILE
        self._keyring = None
        self._checked = False
        self._warned = False

    # -- backend choice ------------------------------------------------------------------------------
    def _backend(self):
        if not self._checked:
            self._checked = True
            try:
                self._keyring = _with_timeout(_usable_backend)
            except KeyringUnavailable:
                self._keyring = None
        return self._keyring

    def _fallback(self) -> None:
        self._keyring = None
        self._checked = True

    def _warn_file(self) -> None:
        if not self._warned:
            self._warned = True
            sys.stderr.write(f"oncore: no system keyring available; credentials stored in {self.file} (mode 0600)\n")

    @property
    def location(self) -> str:
        backend = self._backend()
        if backend is not None:
            kr = backend.get_keyring()
            return f"keyring ({type(kr).__module__}.{type(kr).__name__})"
        return str(self.file)

    # -- file ------------------------------------------------------------------------------------------
    def _read_file(self) -> dict:
        try:
            data = json.loads(self.file.read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_file(self, data: dict) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        write_private(self.file, json.dumps(data, indent=2))

    # -- API -------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self, profile: str):
        """An exclusive lock per profile, across processes (token refresh)."""
        import fcntl

        directory = self.file.parent
        directory.mkdir(parents=True, exist_ok=True)
        with open(directory / f".{profile}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def get(self, profile: str) -> Session | None:
        backend = self._backend()
        if backend is not None:
            try:
                text = _with_timeout(backend.get_password, SERVICE, profile)
                if text:
                    return Session.from_json(text)
            except KeyringUnavailable:
                self._fallback()
        entry = self._read_file().get(profile)
        return Session.from_json(json.dumps(entry)) if entry else None

    def set(self, profile: str, session: Session) -> None:
        backend = self._backend()
        if backend is not None:
            try:
                _with_timeout(backend.set_password, SERVICE, profile, session.to_json())
                self._drop_from_file(profile)  # never leave an older copy behind
                return
            except KeyringUnavailable:
                self._fallback()
        first_time = not self.file.exists()  # said once per machine: not per profile, not on a refresh
        data = self._read_file()
        data[profile] = json.loads(session.to_json())
        self._write_file(data)
        if first_time:
            self._warn_file()

    def delete(self, profile: str) -> bool:
        removed = False
        backend = self._backend()
        if backend is not None:
            try:
                if _with_timeout(backend.get_password, SERVICE, profile):
                    _with_timeout(backend.delete_password, SERVICE, profile)
                    removed = True
            except KeyringUnavailable:
                pass
        return self._drop_from_file(profile) or removed

    def _drop_from_file(self, profile: str) -> bool:
        data = self._read_file()
        if profile not in data:
            return False
        del data[profile]
        self._write_file(data)
        return True
