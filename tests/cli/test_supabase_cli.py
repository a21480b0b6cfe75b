"""The real supabase CLI against the test run's stack on a free port, with the db_url oncore prints unchanged:
its migration history agrees with supabase/migrations and `db push --dry-run` finds it up to date."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from oncore_cli.local.migrate import list_migrations
from oncore_cli.local.paths import supabase_dir


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    """A copy of the project's supabase/ (config.toml, migrations): the CLI writes its own files under .temp/."""
    root = tmp_path_factory.mktemp("cli")
    shutil.copytree(supabase_dir(), root / "supabase", ignore=shutil.ignore_patterns(".temp", "functions"))
    return root


def _supabase(binary: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SUPABASE_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1"}
    return subprocess.run([str(binary), *args], capture_output=True, text=True, cwd=workdir, env=env, timeout=180,
                          stdin=subprocess.DEVNULL)


def test_migration_list_agrees_with_the_stack(supabase_cli, workdir, stack):
    assert stack.db_port != 54322  # the case where the CLI insists on TLS unless the URL says otherwise
    done = _supabase(supabase_cli, workdir, "migration", "list", "--db-url", stack.db_url)
    assert done.returncode == 0, done.stderr
    rows = [[cell.strip().strip("`") for cell in line.split("|")] for line in done.stdout.splitlines()
            if line.count("|") == 2 and line.strip().startswith("`")]  # `local` | `remote` | `time`
    versions = [m.version for m in list_migrations()]
    assert [(local, remote) for local, remote, _ in rows] == [(v, v) for v in versions]


def test_db_push_dry_run_finds_the_stack_up_to_date(supabase_cli, workdir, stack):
    done = _supabase(supabase_cli, workdir, "db", "push", "--dry-run", "--db-url", stack.db_url)
    assert done.returncode == 0, done.stderr
    assert "Remote database is up to date." in done.stdout + done.stderr


def test_psql_and_psycopg_take_the_same_url(stack):
    import psycopg

    with psycopg.connect(stack.db_url) as conn:
        assert conn.execute("select current_user").fetchone() == ("postgres",)
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    done = subprocess.run(["psql", stack.db_url, "-Atc", "select current_user"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout.strip()) == (0, "postgres"), done.stderr
