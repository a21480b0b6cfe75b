"""The local stack's lifecycle: embedded PostgreSQL + the gateway, their keys, state and logs.

Everything lives under `$ONCORE_HOME/local/`:
  postgres/      the cluster            run/      its unix socket
  logs/          postgres.log, gateway.log
  secrets.json   JWT secret and API keys (created once per data directory, 0600)
  gateway.json   what the gateway process reads at start (0600)
  mail/          the local outbox (sign-up, OTP and magic-link mails)
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from oncore_cli.core.config import local_data_dir
from oncore_cli.local.paths import supabase_dir
from oncore_cli.local.postgres import Cluster, PostgresError, free_port

DEFAULT_PORT = 54321
DEFAULT_DB_PORT = 54322
HOST = "127.0.0.1"


class StackError(RuntimeError):
    """The stack could not be started, stopped or reset; the message says what to do."""


@dataclass(frozen=True)
class StackInfo:
    api_url: str
    db_url: str
    anon_key: str
    service_role_key: str
    jwt_secret: str
    port: int
    db_port: int
    gateway_pid: int
    postgres_pid: int
    data_dir: str

    @property
    def auth_url(self) -> str:
        return f"{self.api_url}/auth/v1"

    @property
    def rest_url(self) -> str:
        return f"{self.api_url}/rest/v1"

    def as_dict(self) -> dict:
        return {**asdict(self), "auth_url": self.auth_url, "rest_url": self.rest_url,
                "storage_url": f"{self.api_url}/storage/v1", "realtime_url": f"{self.api_url}/realtime/v1",
                "functions_url": f"{self.api_url}/functions/v1"}


@dataclass(frozen=True)
class StackStatus:
    postgres: str   # running | stopped
    gateway: str    # running | stopped | unhealthy
    info: StackInfo | None

    @property
    def running(self) -> bool:
        return self.postgres == "running" and self.gateway == "running"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True


def _write_private(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


class LocalStack:
    def __init__(self, home: Path | str) -> None:
        self.root = local_data_dir(Path(home))
        self.cluster = Cluster(self.root / "postgres")
        self.logs = self.root / "logs"
        self.mail_dir = self.root / "mail"
        self.secrets_file = self.root / "secrets.json"
        self.state_file = self.root / "stack.json"
        self.gateway_config = self.root / "gateway.json"

    # -- helpers ---------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        if self.cluster.runner.user is None:
            # logs, mails (sign-in codes) and keys are nobody else's business; only a PostgreSQL running as a
            # dedicated system user (root without user namespaces) needs to enter the directory
            self.root.chmod(0o700)
        with open(self.root / ".lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _secrets(self) -> dict:
        if self.secrets_file.is_file():
            return json.loads(self.secrets_file.read_text())
        from oncore_cli.local.gateway.jwt import api_key

        jwt_secret = secrets.token_urlsafe(48)
        data = {"jwt_secret": jwt_secret, "anon_key": api_key("anon", jwt_secret),
                "service_role_key": api_key("service_role", jwt_secret)}
        self.root.mkdir(parents=True, exist_ok=True)
        _write_private(self.secrets_file, data)
        return data

    def _state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _info(self, state: dict) -> StackInfo | None:
        if not state or not self.secrets_file.is_file():
            return None
        keys = self._secrets()
        return StackInfo(
            api_url=f"http://{HOST}:{state['port']}", db_url=self.cluster.url(), port=state["port"],
            db_port=state["db_port"], gateway_pid=state.get("gateway_pid", 0),
            postgres_pid=self.cluster.running_pid() or 0, data_dir=str(self.root), **keys,
        )

    def _healthy(self, port: int, anon_key: str, timeout: float = 2.0) -> bool:
        for path in ("/auth/v1/health", "/rest/v1/"):
            req = urllib.request.Request(f"http://{HOST}:{port}{path}", headers={"apikey": anon_key})
            try:
                with urllib.request.urlopen(req, timeout=timeout) as resp:
                    if resp.status != 200:
                        return False
            except (urllib.error.URLError, OSError):
                return False
        return True

    # -- public API --------------------------------------------------------------------------------------
    def status(self) -> StackStatus:
        state = self._state()
        pg = "running" if self.cluster.running_pid() else "stopped"
        gw = "stopped"
        if _pid_alive(state.get("gateway_pid")):
            keys = self._secrets() if self.secrets_file.is_file() else {}
            gw = "running" if self._healthy(state["port"], keys.get("anon_key", "")) else "unhealthy"
        info = self._info(state) if pg == "running" and gw == "running" else None
        return StackStatus(pg, gw, info)

    def start(self, port: int | None = DEFAULT_PORT, db_port: int | None = DEFAULT_DB_PORT,
              timeout: float = 30.0, on_step=None, on_warning=None,
              rate_limits: dict | None = None) -> tuple[StackInfo, bool]:
        """Start what is not running; returns (info, started) where started is False for a no-op. `rate_limits`
        overrides supabase/config.toml's auth limits for this gateway (names as in gateway/auth/limits.py);
        `on_warning` receives what the migration check finds (stderr by default)."""
        step = on_step or (lambda message: None)
        with self._lock():
            if self.cluster.legacy:
                raise StackError("this local database was made by an older oncore (locale C, `postgres` a superuser): "
                                 "run `oncore local reset` to recreate it as hosted Supabase has it")
            current = self.status()
            if current.running and current.info:
                return current.info, False
            keys = self._secrets()
            state = self._state()
            fresh = not self.cluster.initialized
            if fresh:
                step("Creating the database cluster")
                self.cluster.init()
            pg_restarted = False
            if not self.cluster.running_pid():
                pg_restarted = True
                db_port = db_port if db_port is not None else state.get("db_port")
                if db_port and not _port_free(db_port):
                    raise StackError(f"port {db_port} is in use: pass --db-port with a free port (or 0 for any)")
                step("Starting PostgreSQL")
                try:
                    self.cluster.start(db_port or free_port(), timeout=timeout)
                except PostgresError as e:
                    raise StackError(str(e)) from e
            try:
                gateway_pid, gw_port = self._migrate_and_serve(fresh, pg_restarted, state, keys, port, timeout, step,
                                                           rate_limits, on_warning)
            except BaseException:
                if pg_restarted:  # leave nothing running behind a failed start (a port clash, a bad migration)
                    self.cluster.stop()
                raise
            state = {"port": gw_port, "db_port": self.cluster.port, "gateway_pid": gateway_pid,
                     "started_at": time.time()}
            _write_private(self.state_file, state)
            info = self._info(state)
            assert info is not None
            return info, True

    def _migrate_and_serve(self, fresh: bool, pg_restarted: bool, state: dict, keys: dict, port: int | None,
                           timeout: float, step, rate_limits: dict | None, on_warning=None) -> tuple[int, int]:
        """Migrations, then the gateway (started anew when PostgreSQL was, or when it does not answer)."""
        step("Applying migrations")
        from oncore_cli.local.migrate import MigrationDrift, MigrationError, seed, setup_database, warn_stderr

        conninfo = self.cluster.socket_conninfo()
        try:
            setup_database(self.cluster.admin_conninfo(), conninfo, on_warning=on_warning or warn_stderr)
            if fresh:
                import psycopg

                with psycopg.connect(conninfo, autocommit=True) as conn:
                    seed(conn)
        except MigrationError as e:
            raise StackError(f"migration failed: {e}") from e
        except MigrationDrift as e:
            raise StackError(f"{e} (or start afresh: oncore local reset)") from e

        gateway_pid = state.get("gateway_pid")
        gw_port = state.get("port")
        healthy = _pid_alive(gateway_pid) and gw_port and self._healthy(gw_port, keys["anon_key"])
        if pg_restarted or not healthy:
            if _pid_alive(gateway_pid):
                self._kill(gateway_pid)  # not answering, or its pool points at the old server: replace it
            gw_port = port if port is not None else gw_port
            if gw_port and not _port_free(gw_port):
                raise StackError(f"port {gw_port} is in use: pass --port with a free port (or 0 for any)")
            gw_port = gw_port or free_port()
            step("Starting the API gateway")
            gateway_pid = self._spawn_gateway(gw_port, keys, timeout, rate_limits)
        return gateway_pid, gw_port

    def _spawn_gateway(self, port: int, keys: dict, timeout: float, rate_limits: dict | None = None) -> int:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.mail_dir.mkdir(parents=True, exist_ok=True)
        _write_private(self.gateway_config, {
            "host": HOST, "port": port, "db_port": self.cluster.port, "socket_dir": str(self.cluster.socket_dir),
            "data_dir": str(self.root), "supabase_dir": str(supabase_dir()), **keys,
            **({"rate_limits": rate_limits} if rate_limits else {}),
        })
        log = os.fdopen(os.open(self.logs / "gateway.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        os.fchmod(log.fileno(), 0o600)  # also for a log left by an older version
        proc = subprocess.Popen(
            [sys.executable, "-m", "oncore_cli.local.gateway", "--config", str(self.gateway_config)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = (self.logs / "gateway.log").read_text(errors="replace").strip().splitlines()[-3:]
                raise StackError("the gateway exited at start: " + " | ".join(tail))
            if self._healthy(port, keys["anon_key"], timeout=1.0):
                return proc.pid
            time.sleep(0.05)
        self._kill(proc.pid)
        raise StackError(f"the gateway did not answer within {timeout:.0f}s; see {self.logs / 'gateway.log'}")

    @staticmethod
    def _kill(pid: int, grace: float = 5.0) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _pid_alive(pid):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> bool:
        """Stop the gateway, then PostgreSQL; returns False when nothing was running."""
        with self._lock():
            state = self._state()
            was_running = False
            if _pid_alive(state.get("gateway_pid")):
                self._kill(state["gateway_pid"])
                was_running = True
            if self.cluster.stop():
                was_running = True
            if state:
                state["gateway_pid"] = 0
                _write_private(self.state_file, state)
            return was_running

    def reset(self, port: int | None = None, db_port: int | None = None, on_step=None) -> StackInfo:
        """A fresh database (migrations and seed.sql applied); keys and ports are kept."""
        state = self._state()
        self.stop()
        with self._lock():
            self.cluster.destroy()
            for message in self.mail_dir.glob("*.json"):
                message.unlink()
        info, _ = self.start(port=port if port is not None else state.get("port", DEFAULT_PORT),
                             db_port=db_port if db_port is not None else state.get("db_port", DEFAULT_DB_PORT),
                             on_step=on_step)
        return info
