"""The local stack's lifecycle, on its own data directory (not the shared per-run stack): start is idempotent,
a killed gateway or PostgreSQL is recovered, stop stops both, reset gives a fresh database with the same keys."""

from __future__ import annotations

import json
import os
import signal
import stat
import time

import httpx
import psycopg
import pytest

from oncore_cli.local.stack import LocalStack


@pytest.fixture
def local(tmp_path_factory):
    stack = LocalStack(tmp_path_factory.mktemp("st"))
    yield stack
    stack.stop()


def _wait_dead(pid: int) -> None:
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)


def test_start_is_idempotent_and_answers_supabase_paths(local):
    info, started = local.start(port=0, db_port=0)
    assert started
    again, started_again = local.start(port=0, db_port=0)
    assert not started_again
    assert again.api_url == info.api_url and again.gateway_pid == info.gateway_pid
    headers = {"apikey": info.anon_key}
    assert httpx.get(f"{info.api_url}/auth/v1/health", headers=headers).status_code == 200
    assert httpx.get(f"{info.api_url}/rest/v1/", headers=headers).status_code == 200
    with psycopg.connect(info.db_url) as conn:
        versions = conn.execute("select count(*) from supabase_migrations.schema_migrations").fetchone()[0]
    from oncore_cli.local.migrate import list_migrations

    assert versions == len(list_migrations())


def test_secrets_are_private_and_stable(local):
    info, _ = local.start(port=0, db_port=0)
    mode = stat.S_IMODE(local.secrets_file.stat().st_mode)
    assert mode == 0o600
    assert len(info.jwt_secret) >= 32
    assert json.loads(local.secrets_file.read_text())["anon_key"] == info.anon_key
    local.stop()
    info2, _ = local.start(port=0, db_port=0)
    assert info2.anon_key == info.anon_key and info2.service_role_key == info.service_role_key


def test_killed_gateway_is_recovered(local):
    info, _ = local.start(port=0, db_port=0)
    os.kill(info.gateway_pid, signal.SIGKILL)
    _wait_dead(info.gateway_pid)
    assert local.status().gateway == "stopped"
    info2, started = local.start(port=0, db_port=0)
    assert started and info2.gateway_pid != info.gateway_pid
    assert httpx.get(f"{info2.api_url}/auth/v1/health", headers={"apikey": info2.anon_key}).status_code == 200


def test_killed_postgres_is_recovered(local):
    info, _ = local.start(port=0, db_port=0)
    os.kill(info.postgres_pid, signal.SIGKILL)
    _wait_dead(info.postgres_pid)
    assert (local.cluster.data_dir / "postmaster.pid").exists()  # stale pid file left behind
    assert local.status().postgres == "stopped"
    info2, started = local.start(port=0, db_port=0)
    assert started and info2.postgres_pid != info.postgres_pid
    with psycopg.connect(info2.db_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_stop_stops_both(local):
    info, _ = local.start(port=0, db_port=0)
    assert local.stop() is True
    _wait_dead(info.gateway_pid)
    status = local.status()
    assert (status.postgres, status.gateway) == ("stopped", "stopped")
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{info.api_url}/auth/v1/health", headers={"apikey": info.anon_key})
    assert local.stop() is False


def test_reset_gives_a_fresh_database_with_the_same_keys(local):
    info, _ = local.start(port=0, db_port=0)
    with psycopg.connect(info.db_url, autocommit=True) as conn:
        conn.execute("create table public.scratch_reset (id int primary key)")
        conn.execute("alter table public.scratch_reset enable row level security")
    info2 = local.reset()
    assert info2.anon_key == info.anon_key
    with psycopg.connect(info2.db_url) as conn:
        assert conn.execute("select to_regclass('public.scratch_reset')").fetchone()[0] is None
        assert conn.execute("select to_regnamespace('auth')").fetchone()[0] is not None


def test_busy_port_is_a_clear_error(local):
    import socket

    from oncore_cli.local.stack import StackError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = s.getsockname()[1]
        with pytest.raises(StackError, match=f"port {busy} is in use"):
            local.start(port=busy, db_port=0)


def test_a_cluster_made_by_an_older_oncore_says_to_reset(tmp_path_factory):
    """Clusters from before C.UTF-8 and the demoted postgres (no superuser password file) are not reused."""
    from oncore_cli.local.postgres import Cluster
    from oncore_cli.local.stack import StackError

    home = tmp_path_factory.mktemp("old")
    cluster = Cluster(home / "local" / "postgres")
    cluster.init()
    (cluster.data_dir / "oncore_superuser.pw").unlink()  # what an older oncore's initdb left
    with pytest.raises(StackError, match=r"older oncore .* run `oncore local reset`") as err:
        LocalStack(home).start(port=0, db_port=0)
    assert "\n" not in str(err.value)
    assert cluster.running_pid() is None
