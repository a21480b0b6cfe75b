"""One warm Deno process per function, as edge-runtime keeps one user worker per function (policy `per_worker`).

A worker is `deno run --allow-all <entrypoint>` with `DENO_SERVE_ADDRESS=tcp:127.0.0.1:<port>`, so the function's
own `Deno.serve(handler)` listens where the gateway forwards to. A worker that exits is started again on the next
request; one that does not answer within the time limit is killed. Either way only that function is affected."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from pathlib import Path

from oncore_cli.local.functions import deno_env
from oncore_cli.local.gateway.functions.registry import Function
from oncore_cli.local.gateway.functions.upstream import Pool

BOOT_TIMEOUT = 60.0   # seconds for a first boot (Deno may fetch npm packages into its cache)
# what a worker inherits from the gateway: enough for Deno to find its cache, nothing of the gateway's own settings
_INHERITED = ("HOME", "PATH", "TMPDIR", "DENO_DIR", "NPM_CONFIG_REGISTRY", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
              "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE", "DENO_CERT", "DENO_TLS_CA_STORE")


def _die_with_parent() -> None:
    """In the child before exec: a gateway killed outright (SIGKILL) takes its workers with it (Linux)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class BootError(RuntimeError):
    """The worker exited or did not listen in time; the message holds the end of its output."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Worker:
    def __init__(self, function: Function, deno: str, env: dict[str, str], log_path: Path) -> None:
        self.function = function
        self.deno = deno
        self.env = env
        self.log_path = log_path
        self.port = 0
        self.listening = False
        self.upstream = Pool(0)
        self.process: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        """Booted (listening) and not exited."""
        return self.listening and self.process is not None and self.process.returncode is None

    async def ready(self, boot_timeout: float = BOOT_TIMEOUT) -> int:
        """The port of a running worker, booting one if needed (BootError when it cannot)."""
        if self.alive:
            return self.port
        async with self._lock:
            if not self.alive:
                await self._boot(boot_timeout)
            return self.port

    async def _boot(self, timeout: float) -> None:
        self.port = _free_port()
        self.upstream = Pool(self.port)
        env = deno_env({k: v for k, v in os.environ.items() if k in _INHERITED})
        env.update(self.env)
        env.update({"DENO_SERVE_ADDRESS": f"tcp:127.0.0.1:{self.port}", "NO_COLOR": "1"})
        args = [self.deno, "run", "--allow-all", "--no-prompt"]
        if self.function.config:
            args += ["--config", str(self.function.config)]
        args.append(str(self.function.entrypoint))
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        start_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            self.process = await asyncio.create_subprocess_exec(
                *args, stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                cwd=str(self.function.entrypoint.parent), start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        finally:
            os.close(log)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if self.process is None or self.process.returncode is not None:
                break
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                self.listening = True
                return
            await asyncio.sleep(0.02)
        await self.stop()
        raise BootError(self._output_since(start_offset))

    def _output_since(self, offset: int) -> str:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read()[-2000:].decode(errors="replace").strip()
        except OSError:
            return ""

    async def stop(self) -> None:
        process, self.process = self.process, None
        self.listening = False
        self.upstream.close()
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the whole group: a function may have started children
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), 5)
