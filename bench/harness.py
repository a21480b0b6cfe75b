"""What the whole-process benches share: a local stack in a temporary ONCORE_HOME with a signed-up user logged in
through `oncore login` (tokens in a keyrings.alt file keyring in the same temp dir), and timing helpers."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def wall(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def cpu(cmd: list[str], env: dict) -> float:
    """CPU seconds (user + system) the command used: a figure a busy machine moves far less than wall time."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def oncore(env: dict, *args: str, input: str | None = None) -> str:
    proc = subprocess.run([sys.executable, "-m", "oncore_cli", *args], env=env, input=input, text=True,
                          capture_output=True)
    if proc.returncode:
        raise SystemExit(f"oncore {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


@contextlib.contextmanager
def logged_in_stack():
    """(stack info, environment for oncore subprocesses), the user logged in; the stack stops afterwards."""
    from oncore_cli.local.stack import LocalStack

    with tempfile.TemporaryDirectory(prefix="oh") as home:
        stack = LocalStack(home)
        info, _ = stack.start(port=0, db_port=0)
        try:
            env = {**os.environ, "ONCORE_HOME": home, "NO_COLOR": "1", "XDG_DATA_HOME": f"{home}/xdg",
                   "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
            for name in ("ONCORE_PROFILE", "ONCORE_URL", "ONCORE_ACCESS_TOKEN", "ONCORE_ORG"):
                env.pop(name, None)
            email, password = "bench@example.com", "bench-password"
            request = urllib.request.Request(f"{info.api_url}/auth/v1/signup", method="POST",
                                             data=json.dumps({"email": email, "password": password}).encode(),
                                             headers={"apikey": info.anon_key, "Content-Type": "application/json"})
            urllib.request.urlopen(request).read()
            oncore(env, "login", "--local", "--email", email, "--password-stdin", input=password + "\n")
            yield info, env
        finally:
            stack.stop()
