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

