"""The embedded PostgreSQL on its own: binaries are found in the documented order, a cluster starts and stops
(as root too), and the pgserver wheel's server works when it is installed."""

from __future__ import annotations

import os
import signal
import time
import psycopg
import pytest

from oncore_cli.local.migrate import list_migrations, setup_database
from oncore_cli.local.postgres import Cluster, PostgresError, find_binaries, pgserver_bindir


def test_oncore_pg_bin_must_hold_a_server(tmp_path, monkeypatch):
    monkeypatch.setenv("ONCORE_PG_BIN", str(tmp_path))
    with pytest.raises(PostgresError, match="does not contain initdb, pg_ctl and postgres"):
        find_binaries()


def test_oncore_pg_bin_wins(monkeypatch):
    found = find_binaries()
    monkeypatch.setenv("ONCORE_PG_BIN", str(found.bindir))
    assert find_binaries().source == "ONCORE_PG_BIN"


def _pgserver_bins():
    bindir = pgserver_bindir()
    return bindir if bindir and (bindir / "postgres").is_file() else None


@pytest.mark.parametrize("source", ["default", "pgserver"])
def test_cluster_lifecycle_and_stale_pid_recovery(tmp_path_factory, monkeypatch, source):
    if source == "pgserver":
        bindir = _pgserver_bins()
        if bindir is None:
            pytest.skip("the pgserver wheel is not installed")
        monkeypatch.setenv("ONCORE_PG_BIN", str(bindir))
    cluster = Cluster(tmp_path_factory.mktemp("pg") / "postgres")
    try:
        cluster.init()
        url = cluster.start()
        with psycopg.connect(cluster.admin_conninfo()) as conn:  # the superuser: its password, the socket
            assert conn.execute("select current_user, rolsuper from pg_roles where rolname = current_user"
                                ).fetchone() == ("supabase_admin", True)
            assert conn.execute("show wal_level").fetchone() == ("logical",)
            assert conn.execute("select datcollate, datctype from pg_database where datname = 'postgres'"
                                ).fetchone() == ("C.UTF-8", "C.UTF-8")
            assert conn.execute("select lower('ŁÓDŹ KÖLN SÃO')").fetchone() == ("łódź köln são",)
        with pytest.raises(psycopg.OperationalError):  # ... and never over TCP, whatever the password
            password = (cluster.data_dir / "oncore_superuser.pw").read_text().strip()
            psycopg.connect(cluster.url("supabase_admin", password), connect_timeout=5).close()
        # The bootstrap and every migration run on these binaries too (the wheel has no pgcrypto, for one).
        applied = setup_database(cluster.admin_conninfo(), cluster.socket_conninfo())
        assert [m.version for m in applied] == [m.version for m in list_migrations()]
        with psycopg.connect(url) as conn:  # password auth over TCP: the demoted postgres
            assert conn.execute("select current_user, rolsuper from pg_roles where rolname = current_user"
                                ).fetchone() == ("postgres", False)
        pid = cluster.running_pid()
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            if cluster.running_pid() is None:
                break
            time.sleep(0.05)
        assert (cluster.data_dir / "postmaster.pid").exists()
        cluster.start()
        assert cluster.running_pid() not in (None, pid)
        assert cluster.stop() is True
        assert cluster.running_pid() is None
        assert cluster.stop() is False
    finally:
        cluster.destroy()


def test_init_refuses_a_directory_that_is_not_a_cluster(tmp_path):
    target = tmp_path / "postgres"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(PostgresError, match="is not a PostgreSQL cluster"):
        Cluster(target).init()
    assert (target / "notes.txt").read_text() == "mine"
