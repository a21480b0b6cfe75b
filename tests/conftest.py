"""Shared fixtures: one local stack (embedded PostgreSQL + gateway) per test run, on free ports, in a temporary
ONCORE_HOME. Nothing here depends on a stack the developer started by hand."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def stack_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Short path: PostgreSQL's unix socket path must stay under ~100 bytes.
    return tmp_path_factory.mktemp("oh")


# The whole suite signs users up and in from 127.0.0.1 through one gateway: its auth limits are raised (the limits
# themselves are tested on a gateway with supabase/config.toml's values, tests/gateway/test_security_throttle.py).
SHARED_STACK_RATE_LIMITS = {"anonymous_users": 1e6, "token_refresh": 1e6, "sign_in_sign_ups": 1e6,
                            "token_verifications": 1e6, "max_frequency": 0}


@pytest.fixture(scope="session")
def stack(stack_home: Path):
    """The running local stack (StackInfo): api_url, db_url, anon_key, service_role_key, jwt_secret."""
    from oncore_cli.local.stack import LocalStack

    local = LocalStack(stack_home)
    info, _ = local.start(port=0, db_port=0, rate_limits=SHARED_STACK_RATE_LIMITS)
    try:
        yield info
    finally:
        local.stop()


@pytest.fixture(scope="session")
def db_url(stack) -> str:
    """The URL oncore prints (migrations applied): the demoted `postgres`, as `supabase db push` gets on hosted."""
    return stack.db_url


@pytest.fixture(scope="session")
def admin_db_url(stack) -> str:
    """The real superuser (supabase_admin) over the unix socket, for the few tests that must go past `postgres`."""
    from oncore_cli.local.postgres import Cluster

    return Cluster(Path(stack.data_dir) / "postgres").admin_conninfo()


SUPABASE_CLI_VERSION = "2.117.0"


@pytest.fixture(scope="session")
def supabase_cli() -> Path:
    """The real supabase CLI (npm package, pinned), installed once into a cache directory; its binary's path."""
    import shutil
    import subprocess

    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        pytest.skip("node and npm are needed for the supabase CLI tests and are not installed")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "oncore-tests"
    prefix = cache / f"supabase-cli-{SUPABASE_CLI_VERSION}"
    binary = prefix / "node_modules" / ".bin" / "supabase"
    if not binary.is_file():
        prefix.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "-E",
                               f"supabase@{SUPABASE_CLI_VERSION}"], capture_output=True, text=True, timeout=600)
        assert done.returncode == 0 and binary.is_file(), f"npm install supabase failed:\n{done.stdout}{done.stderr}"
    return binary


@pytest.fixture
def extra_gateway(stack, stack_home, tmp_path):
    """Factory: start(**settings) → another gateway process on the shared database, with the stack's gateway.json
    and `settings` over it (rate_limits, timeouts, supabase_dir, data_dir…); SimpleNamespace(url, port, log)."""
    import json
    import subprocess
    import sys
    import time
    from types import SimpleNamespace

    import httpx

    from oncore_cli.local.postgres import free_port

    started: list[subprocess.Popen] = []

    def start(**settings) -> SimpleNamespace:
        n = len(started)
        config = json.loads((Path(stack_home) / "local" / "gateway.json").read_text())
        config.update(port=free_port(), **settings)
        path = tmp_path / f"gateway-{n}.json"
        path.write_text(json.dumps(config))
        os.chmod(path, 0o600)
        log = tmp_path / f"gateway-{n}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "oncore_cli.local.gateway", "--config", str(path)],
                                    stdout=out, stderr=out, start_new_session=True)
        started.append(proc)
        url = f"http://127.0.0.1:{config['port']}"
        for _ in range(600):
            try:
                if httpx.get(f"{url}/auth/v1/health", headers={"apikey": stack.anon_key}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, log.read_text()
            time.sleep(0.05)
        return SimpleNamespace(url=url, port=config["port"], log=log)

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def unique() -> str:
    """A short unique suffix for names, slugs and e-mails, so tests never collide on the shared database."""
    return uuid.uuid4().hex[:10]


def pytest_collection_modifyitems(config, items):
    os.environ.setdefault("NO_COLOR", "1")
