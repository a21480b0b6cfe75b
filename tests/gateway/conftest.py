"""Fixtures shared by the gateway tests that drive the stack with unmodified supabase-js (tests/js)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

JS_DIR = Path(__file__).resolve().parents[1] / "js"


@pytest.fixture(scope="session")
def run_js(stack) -> Callable[[str], dict]:
    """Runs tests/js/<name> with node against the stack and answers its report (the script's stdout, one JSON
    object); a non-zero exit fails the test with the script's stderr. tests/js gets its locked dependencies
    (`npm ci`, as on a fresh CI machine) once per run."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the supabase-js tests and are not installed")
    done = subprocess.run([shutil.which("npm"), "ci", "--prefix", str(JS_DIR), "--no-audit", "--no-fund"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"

    def run(name: str) -> dict:
        env = {**os.environ, "SUPABASE_URL": stack.api_url, "SUPABASE_ANON_KEY": stack.anon_key,
               "SUFFIX": uuid.uuid4().hex[:10], "ONCORE_DATA_DIR": stack.data_dir}  # auth.mjs reads the outbox
        result = subprocess.run([shutil.which("node"), name], capture_output=True, text=True, env=env, cwd=JS_DIR,
                                timeout=120)
        assert result.returncode == 0, f"{name} failed:\n{result.stderr}"
        return json.loads(result.stdout)

    return run
