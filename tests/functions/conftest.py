"""Fixtures for the edge functions: a second gateway on the shared database, serving a functions folder of the
test's choosing, with its own data directory (secrets, outbox, logs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from oncore_cli.local.postgres import free_port


@pytest.fixture
def functions_gateway(stack, stack_home, tmp_path):
    """Factory: start(supabase_dir, data_dir=None, **settings) → a gateway serving supabase_dir's functions."""
    started: list[subprocess.Popen] = []

    def start(supabase_dir: Path, data_dir: Path | None = None, **settings) -> SimpleNamespace:
        config = json.loads((Path(stack_home) / "local" / "gateway.json").read_text())
        data_dir = data_dir or tmp_path / f"data-{len(started)}"
        data_dir.mkdir(parents=True, exist_ok=True)
        config.update(port=free_port(), supabase_dir=str(supabase_dir), data_dir=str(data_dir), **settings)
        path = tmp_path / f"gateway-{len(started)}.json"
        path.write_text(json.dumps(config))
        os.chmod(path, 0o600)
        log = open(tmp_path / f"gateway-{len(started)}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-m", "oncore_cli.local.gateway", "--config", str(path)],
                                stdout=log, stderr=log, start_new_session=True)
        started.append(proc)
        url = f"http://127.0.0.1:{config['port']}"
        for _ in range(600):
            try:
                if httpx.get(f"{url}/auth/v1/health", headers={"apikey": stack.anon_key}).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (tmp_path / f"gateway-{len(started) - 1}.log").read_text()
            time.sleep(0.05)
        return SimpleNamespace(url=url, port=config["port"], data_dir=data_dir,
                               log=lambda: (data_dir / "logs" / "functions.log").read_text(errors="replace"))

    yield start
    for proc in started:
        proc.terminate()
        proc.wait(timeout=30)



@pytest.fixture
def owner(stack, unique):
    """A signed-in user (supabase-py client) owning a fresh organization: SimpleNamespace(client, org_id, token)."""
    from supabase import create_client

    client = create_client(stack.api_url, stack.anon_key)
    session = client.auth.sign_up({"email": f"owner-{unique}@example.com", "password": "correct horse battery"}).session
    org = client.rpc("create_organization", {"name": f"Org {unique}", "slug": f"org-{unique}"}).execute().data
    return SimpleNamespace(client=client, org_id=org["id"], token=session.access_token)


@pytest.fixture
def stack_secrets(stack, stack_home):
    """Set secrets for the shared stack's functions (as `oncore local secrets set` does); restored afterwards."""
    from oncore_cli.local.functions import read_secrets, write_secrets

    data_dir = Path(stack_home) / "local"
    before = read_secrets(data_dir)

    def set_(**values: str) -> None:
        write_secrets(data_dir, {**read_secrets(data_dir), **values})

    yield set_
    write_secrets(data_dir, before)
