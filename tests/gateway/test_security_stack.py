"""What the local stack leaves on disk and in the process table: keys only in owner-only files, never in argv or
the logs; the stack's directory (logs, mails with sign-in codes, keys) closed to other local users."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import httpx
import pytest

from oncore_cli.local.gateway.jwt import encode


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_key_and_state_files_are_owner_only(stack, stack_home):
    local = Path(stack_home) / "local"
    for name in ("secrets.json", "gateway.json", "stack.json"):
        assert _mode(local / name) == 0o600, name


def test_the_stack_directory_is_closed_to_other_users(stack, stack_home):
    from oncore_cli.local.postgres import Cluster

    if Cluster(Path(stack_home) / "local" / "postgres").runner.user is not None:
        pytest.skip("PostgreSQL runs as a dedicated system user here: it must be able to enter the directory")
    assert _mode(Path(stack_home) / "local") == 0o700


def test_mails_are_owner_only(stack, unique):
    email = f"mode-{unique}@example.com"
    response = httpx.post(f"{stack.auth_url}/otp", json={"email": email}, headers={"apikey": stack.anon_key})
    assert response.status_code == 200
    mails = [p for p in (Path(stack.data_dir) / "mail").glob("*.json") if email in p.read_text()]
    assert mails and all(_mode(p) == 0o600 for p in mails)


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="needs /proc")
def test_no_secret_in_any_process_argv(stack):
    secrets = (stack.jwt_secret, stack.anon_key, stack.service_role_key)
    for pid in (stack.gateway_pid, stack.postgres_pid):
        assert pid and Path(f"/proc/{pid}").exists()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = _cmdline(int(entry.name))
        except OSError:
            continue
        assert not any(secret in cmdline for secret in secrets), cmdline[:200]


def test_no_secret_in_the_logs(stack, stack_home):
    """After failing requests of every kind (bad tokens, SQL errors, auth errors), the logs hold no key."""
    user_token = encode({"role": "authenticated", "sub": "00000000-0000-0000-0000-000000000001",
                         "exp": int(time.time()) + 60}, stack.jwt_secret)
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        for token in (stack.service_role_key, user_token, stack.anon_key + "x"):
            headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}
            client.get("/rest/v1/shows", params={"id": "eq.not-a-uuid"}, headers=headers)
            client.post("/rest/v1/rpc/no_such_fn", json={}, headers=headers)
            client.get("/auth/v1/user", headers=headers)
            client.get("/auth/v1/admin/users/not-a-uuid", headers=headers)
            client.post("/auth/v1/token", params={"grant_type": "refresh_token"}, json={"refresh_token": token},
                        headers=headers)
    logs = Path(stack_home) / "local" / "logs"
    text = "".join(p.read_text(errors="replace") for p in logs.glob("*.log"))
    for secret in (stack.jwt_secret, stack.anon_key, stack.service_role_key, user_token):
        assert secret not in text
    # the token's signature alone must not appear either (a truncated token is still a credential)
    assert user_token.rsplit(".", 1)[1] not in text


def test_gateway_log_is_not_world_readable(stack, stack_home):
    log = Path(stack_home) / "local" / "logs" / "gateway.log"
    assert not _mode(log) & (stat.S_IROTH | stat.S_IWOTH)
    assert os.stat(log).st_uid == os.geteuid()


@pytest.mark.parametrize("user", ["authenticator", "anon", "service_role", "supabase_auth_admin"])
@pytest.mark.parametrize("password", ["", "postgres", "authenticator"])
def test_api_roles_cannot_log_in_over_tcp(stack, user, password):
    """Only the superuser has a (well-known, supabase CLI) password; the gateway's roles come in over the
    owner-only unix socket."""
    import psycopg

    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(host="127.0.0.1", port=stack.db_port, user=user, password=password, dbname="postgres",
                        connect_timeout=5).close()


def test_authenticator_cannot_become_a_superuser(stack):
    import psycopg

    from oncore_cli.local.postgres import Cluster

    conninfo = Cluster(Path(stack.data_dir) / "postgres").socket_conninfo("authenticator")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for role in ("postgres", "supabase_auth_admin", "supabase_storage_admin", "pg_read_server_files"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f'set role "{role}"')
        conn.execute("set role service_role")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from auth.users")
