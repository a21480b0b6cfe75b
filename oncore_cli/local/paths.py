"""Where the project's Supabase files live: beside the package in a checkout, inside it in a wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent


def supabase_dir() -> Path:
    """The `supabase/` folder (migrations, functions, seed.sql)."""
    for candidate in (_PACKAGE / "_supabase", _PACKAGE.parent / "supabase"):
        if (candidate / "migrations").is_dir():
            return candidate
    raise FileNotFoundError("supabase/migrations not found: reinstall oncore-cli")


def bootstrap_dir() -> Path:
    """The SQL that hosted Supabase provides before a project's migrations run."""
    return Path(__file__).resolve().parent / "sql"
