"""Configuration: where oncore keeps its files, the profiles in `config.toml`, and every ONCORE_* name.

Precedence for each setting is flags > environment > profile file. This module is the only place that reads the
environment by name, so `oncore --help` and the docs can point to one list.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ENV_HOME = "ONCORE_HOME"
ENV_PROFILE = "ONCORE_PROFILE"
ENV_URL = "ONCORE_URL"
ENV_ANON_KEY = "ONCORE_ANON_KEY"
ENV_ACCESS_TOKEN = "ONCORE_ACCESS_TOKEN"
ENV_SERVICE_ROLE_KEY = "ONCORE_SERVICE_ROLE_KEY"
ENV_ORG = "ONCORE_ORG"
ENV_DEBUG = "ONCORE_DEBUG"
ENV_KEYRING_TIMEOUT = "ONCORE_KEYRING_TIMEOUT"
ENV_LOCAL_PORT = "ONCORE_LOCAL_PORT"
ENV_LOCAL_DB_PORT = "ONCORE_LOCAL_DB_PORT"

DEFAULT_PROFILE = "default"
CONFIG_FILE = "config.toml"


def env(name: str) -> str | None:
    """An environment value, with empty strings treated as unset."""
    value = os.environ.get(name)
    return value if value else None


def home() -> Path:
    """ONCORE_HOME, or the platform's user data directory for oncore."""
    explicit = env(ENV_HOME)
    if explicit:
        return Path(explicit).expanduser().absolute()
    import platformdirs

    return Path(platformdirs.user_data_dir("oncore", appauthor=False))


def local_data_dir(root: Path | None = None) -> Path:
    """Where the local stack keeps its cluster, keys, logs and outbox: `$ONCORE_HOME/local`."""
    return (root or home()).absolute() / "local"


def debug() -> bool:
    return (env(ENV_DEBUG) or "").lower() not in ("", "0", "false", "no")


@dataclass
class Profile:
    name: str
    url: str | None = None
    anon_key: str | None = None
    org: str | None = None

    def as_toml(self) -> dict:
        return {k: v for k, v in (("url", self.url), ("anon_key", self.anon_key), ("org", self.org)) if v}


@dataclass
class ConfigFile:
    """`$ONCORE_HOME/config.toml`: `current = "name"` plus one `[profiles.<name>]` table per profile."""

    path: Path
    current: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> "ConfigFile":
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            return cls(path)
        except (OSError, tomllib.TOMLDecodeError) as e:
            from oncore_cli.core.errors import UsageError

            raise UsageError(f"cannot read {path}: {e}; fix or delete the file") from e
        profiles = {}
        for name, values in (raw.get("profiles") or {}).items():
            if not isinstance(values, dict):
                continue
            profiles[name] = Profile(name, url=values.get("url"), anon_key=values.get("anon_key"), org=values.get("org"))
        current = raw.get("current") if isinstance(raw.get("current"), str) else None
        return cls(path, current, profiles)

    def save(self) -> None:
        """Write atomically (temp file + rename), readable by the owner only: the file holds API keys."""
        import tomli_w

        data: dict = {}
        if self.current:
            data["current"] = self.current
        data["profiles"] = {name: p.as_toml() for name, p in sorted(self.profiles.items())}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_private(self.path, tomli_w.dumps(data))


def write_private(path: Path, text: str) -> None:
    """Atomic write of a 0600 file: readers see the old or the new content, never half of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class Settings:
    """What one invocation uses, after flags, environment and profile are merged."""

    profile: str
    url: str | None
    anon_key: str | None
    org: str | None
    access_token: str | None      # ONCORE_ACCESS_TOKEN: use this token, no login
    service_role_key: str | None  # ONCORE_SERVICE_ROLE_KEY: CI seeding only


def resolve(config: ConfigFile, *, profile: str | None = None, url: str | None = None,
            anon_key: str | None = None, org: str | None = None) -> Settings:
    name = profile or env(ENV_PROFILE) or config.current or DEFAULT_PROFILE
    stored = config.profiles.get(name) or Profile(name)
    return Settings(
        profile=name,
        url=(url or env(ENV_URL) or stored.url or "").rstrip("/") or None,
        anon_key=anon_key or env(ENV_ANON_KEY) or stored.anon_key,
        org=org or env(ENV_ORG) or stored.org,
        access_token=env(ENV_ACCESS_TOKEN),
        service_role_key=env(ENV_SERVICE_ROLE_KEY),
    )
