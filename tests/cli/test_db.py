"""oncore db push|status on a bare PostgreSQL cluster and on the local stack, taking turns with the real supabase CLI."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from oncore_cli.local.migrate import cli_statements, list_migrations
from oncore_cli.local.paths import supabase_dir


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """A fresh PostgreSQL cluster with nothing in it (no Supabase roles, no auth schema, no history): its
    superuser's conninfo, and the URL `postgres` will have once the bootstrap has made that role."""
    from oncore_cli.local.postgres import Cluster

    cluster = Cluster(tmp_path_factory.mktemp("bare") / "data")
    cluster.init()
    cluster.start()
    try:
        yield cluster.admin_conninfo(), cluster.url()
    finally:
        cluster.destroy()


@pytest.fixture
def workdir(tmp_path) -> Path:
    """A project folder with a copy of the repository's supabase/ (config.toml and migrations)."""
    target = tmp_path / "project"
    (target / "supabase").mkdir(parents=True)
    shutil.copy(supabase_dir() / "config.toml", target / "supabase" / "config.toml")
    shutil.copytree(supabase_dir() / "migrations", target / "supabase" / "migrations")
    return target


def supabase(binary: Path, workdir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], cwd=workdir, capture_output=True, text=True, timeout=120,
                          input="y\n")


def test_push_on_bare_cluster_then_the_supabase_cli_takes_turns(oncore, bare, workdir, supabase_cli):
    admin_url, bare_url = bare
    versions = [m.version for m in list_migrations()]
    status = oncore("db", "status", "--db-url", admin_url, "--json")
    assert status.exit_code == 0, status
    assert [(s["version"], s["state"]) for s in status.json] == [(v, "pending") for v in versions]

    dry = oncore("db", "push", "--db-url", admin_url, "--dry-run", "--json")
    assert dry.json == {"dry_run": True, "bootstrap": True,
                        "would_apply": [f"{m.version}_{m.name}.sql" for m in list_migrations()]}, dry
    with psycopg.connect(admin_url) as conn:  # the dry run wrote nothing
        assert conn.execute("select to_regclass('supabase_migrations.schema_migrations')").fetchone()[0] is None

    pushed = oncore("db", "push", "--db-url", admin_url)
    assert pushed.exit_code == 0, pushed
    assert f"Applied {len(versions)} migrations." in pushed.stderr
    with psycopg.connect(bare_url) as conn:
        recorded = dict(conn.execute("select version, statements from supabase_migrations.schema_migrations"))
        owner = conn.execute("select tableowner from pg_tables where tablename = 'shows'").fetchone()[0]
    assert recorded == {m.version: cli_statements(m.path.read_text()) for m in list_migrations()}
    assert owner == "postgres"  # migrations ran as the demoted postgres, as on hosted
    assert oncore("db", "push", "--db-url", bare_url).stderr.strip() == "Nothing to apply: the database is up to date."

    url = bare_url  # with sslmode=disable: the CLI asks for TLS unless told; the local server has none
    listed = supabase(supabase_cli, workdir, "migration", "list", "--db-url", url)
    assert listed.returncode == 0, listed.stderr
    rows = [[cell.strip(" `") for cell in line.split("|")] for line in listed.stdout.splitlines() if "|" in line]
    assert [(r[0], r[1]) for r in rows if r[0].isdigit()] == [(v, v) for v in versions], listed.stdout
    dry_cli = supabase(supabase_cli, workdir, "db", "push", "--dry-run", "--db-url", url)
    assert dry_cli.returncode == 0 and "Remote database is up to date." in dry_cli.stdout + dry_cli.stderr, dry_cli

    # The supabase CLI pushes a new migration: oncore sees it applied, and pushes nothing twice.
    new = workdir / "supabase" / "migrations" / "20991231000000_cli_turn.sql"
    new.write_text("create table public.cli_turn (id int primary key);\n"
                   "alter table public.cli_turn enable row level security;\n")
    cli_push = supabase(supabase_cli, workdir, "db", "push", "--yes", "--db-url", url)
    assert cli_push.returncode == 0, cli_push.stderr
    status = oncore("db", "status", "--db-url", bare_url, "--workdir", workdir, "--json").json
    assert status[-1] == {"version": "20991231000000", "name": "cli_turn", "state": "applied"}
    assert all(s["state"] == "applied" for s in status)
    assert oncore("db", "push", "--db-url", bare_url, "--workdir", workdir).stderr.strip() == \
        "Nothing to apply: the database is up to date."
    # A migration older than the last one applied (a merged branch's): refused unless --include-all, as the
    # supabase CLI has it.
    late = workdir / "supabase" / "migrations" / "20990101000000_late_branch.sql"
    late.write_text("create table public.late_branch (id int primary key);\n"
                    "alter table public.late_branch enable row level security;\n")
    early = oncore("db", "push", "--db-url", bare_url, "--workdir", workdir)
    assert early.exit_code == 5 and "20990101000000_late_branch.sql" in early.stderr \
        and "--include-all" in early.stderr, early
    assert oncore("db", "push", "--db-url", bare_url, "--workdir", workdir, "--include-all").exit_code == 0
    assert {"version": "20990101000000", "name": "late_branch", "state": "applied"} in \
        oncore("db", "status", "--db-url", bare_url, "--workdir", workdir, "--json").json
    late.unlink()
    with psycopg.connect(bare_url) as conn:
        conn.execute("drop table public.late_branch")
        conn.execute("delete from supabase_migrations.schema_migrations where version = '20990101000000'")

    # Without that file (oncore's own folder), the version is reported missing, and push refuses.
    assert oncore("db", "status", "--db-url", bare_url, "--json").json[-1]["state"] == "missing"
    refused = oncore("db", "push", "--db-url", bare_url)
    assert refused.exit_code == 5 and "not in the migrations folder: 20991231000000" in refused.stderr, refused

    # An applied migration edited afterwards: push refuses, status says which.
    new.write_text(new.read_text() + "create index on public.cli_turn (id);\n")
    changed = oncore("db", "push", "--db-url", bare_url, "--workdir", workdir)
    assert changed.exit_code == 5 and "changed since: 20991231000000_cli_turn.sql" in changed.stderr, changed
    assert oncore("db", "status", "--db-url", bare_url, "--workdir", workdir, "--json").json[-1]["state"] == "changed"


def test_push_and_status_on_the_local_stack(oncore, stack, stack_home):
    env = {"ONCORE_HOME": str(stack_home)}
    status = oncore("db", "status", "--json", env=env)
    assert status.exit_code == 0, status
    assert {s["state"] for s in status.json} == {"applied"}
    assert [s["version"] for s in status.json] == [m.version for m in list_migrations()]
    pushed = oncore("db", "push", env=env)
    assert pushed.exit_code == 0 and "Nothing to apply" in pushed.stderr, pushed


def test_errors(oncore, tmp_path):
    result = oncore("db", "status", "--db-url", "postgresql://nobody@127.0.0.1:1/none")
    assert result.exit_code == 1 and result.stderr.startswith("oncore: cannot connect to the database"), result
    result = oncore("db", "status")  # a fresh ONCORE_HOME: no local stack
    assert result.exit_code == 1 and "oncore local start" in result.stderr, result
    result = oncore("db", "push", "--db-url", "postgresql://x@127.0.0.1:1/x", "--workdir", tmp_path)
    assert result.exit_code in (1, 2), result
