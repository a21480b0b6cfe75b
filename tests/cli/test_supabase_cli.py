"""The real supabase CLI against the test run's stack on a free port, with the db_url oncore prints unchanged:
its migration history agrees with supabase/migrations and `db push --dry-run` finds it up to date."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from oncore_cli.local.migrate import list_migrations

REPO = Path(__file__).resolve().parents[2]


def _supabase(binary: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SUPABASE_TELEMETRY_DISABLED": "1", "DO_NOT_TRACK": "1"}
    return subprocess.run([str(binary), *args], capture_output=True, text=True, cwd=REPO, env=env, timeout=180,
                          stdin=subprocess.DEVNULL)


def test_migration_list_agrees_with_the_stack(supabase_cli, stack):
    assert stack.db_port != 54322  # the case where the CLI insists on TLS unless the URL says otherwise
    done = _supabase(supabase_cli, "migration", "list", "--db-url", stack.db_url)
    assert done.returncode == 0, done.stderr
    rows = [[cell.strip().strip("`") for cell in line.split("|")] for line in done.stdout.splitlines()
            if line.count("|") == 2 and line.strip()[0].isdigit() or line.strip().startswith("`")]
    versions = [m.version for m in list_migrations()]
    assert [(local, remote) for local, remote, _ in rows] == [(v, v) for v in versions]


def test_db_push_dry_run_finds_the_stack_up_to_date(supabase_cli, stack):
    done = _supabase(supabase_cli, "db", "push", "--dry-run", "--db-url", stack.db_url)
    assert done.returncode == 0, done.stderr
    assert "Remote database is up to date." in done.stdout + done.stderr


def test_psql_and_psycopg_take_the_same_url(stack):
    import shutil

    import psycopg
    import pytest

    with psycopg.connect(stack.db_url) as conn:
        assert conn.execute("select current_user").fetchone() == ("postgres",)
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed")
    done = subprocess.run(["psql", stack.db_url, "-Atc", "select current_user"], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert (done.returncode, done.stdout.strip()) == (0, "postgres"), done.stderr
