"""What the local stack's edge-function runtime shares with the CLI: the Deno binary and the functions' secrets.

Secrets (`oncore local secrets set NAME=VALUE`) are kept in `$ONCORE_HOME/local/function-secrets.json` (0600); the
gateway passes them to every function as environment variables and restarts running functions when they change.
As with `supabase secrets set`, names starting with `SUPABASE_` are refused: the stack provides those itself."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

SECRETS_FILE = "function-secrets.json"
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretError(ValueError):
    """A secret name or assignment that cannot be stored; the message says why."""


def deno_binary() -> str | None:
    """`ONCORE_DENO`, else a `deno` on PATH, else the binary of the `deno` package on PyPI (the `local` extra)."""
    explicit = os.environ.get("ONCORE_DENO")
    if explicit:
        return explicit
    found = shutil.which("deno")
    if found:
        return found
    try:
        import deno  # type: ignore[import-not-found]

        return str(deno.find_deno_bin())
    except (ImportError, OSError, RuntimeError):
        return None


def deno_env(environ: dict[str, str]) -> dict[str, str]:
    """`environ` with what every Deno the stack starts needs: the operating system's certificate authorities as
    well as Deno's own (Mozilla's) list, so npm packages download behind a company proxy with its own authority, as
    they do for curl, pip and npm there (`DENO_TLS_CA_STORE` when set wins); no update check."""
    return {"DENO_TLS_CA_STORE": "system,mozilla", **environ, "DENO_NO_UPDATE_CHECK": "1"}


def secrets_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / SECRETS_FILE


def read_secrets(data_dir: Path | str) -> dict[str, str]:
    try:
        data = json.loads(secrets_path(data_dir).read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise SecretError(f'invalid secret name "{name}": use letters, digits and underscores, not starting with a digit')
    if name.upper().startswith("SUPABASE_"):
        raise SecretError(f'secret names starting with SUPABASE_ are reserved: "{name}" is set by the stack itself')
    return name


def parse_assignment(text: str) -> tuple[str, str]:
    """`NAME=VALUE` → (NAME, VALUE)."""
    name, sep, value = text.partition("=")
    if not sep:
        raise SecretError(f'expected NAME=VALUE, got "{name}"')
    return check_name(name.strip()), value


def write_secrets(data_dir: Path | str, values: dict[str, str]) -> None:
    path = secrets_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(dict(sorted(values.items())), f, indent=2)
    os.replace(tmp, path)


def digest(value: str) -> str:
    """What `supabase secrets list` shows instead of a value: its SHA-256, hex."""
    return hashlib.sha256(value.encode()).hexdigest()
