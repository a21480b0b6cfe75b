"""Embedded PostgreSQL: one cluster in a directory, started on 127.0.0.1 and a unix socket.

Binaries come from ONCORE_PG_BIN, else the system's (`pg_config --bindir`, `postgres` on PATH), else the
`pgserver` wheel. PostgreSQL refuses to run as root; as root we run it inside a user namespace in which we are
`nobody` (files stay owned by root outside, so no chmod of the caller's home is needed), falling back to a
dedicated system user when user namespaces are unavailable.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# As on hosted Supabase: the real superuser is `supabase_admin`, with a random password per cluster, reachable over
# the owner-only unix socket only; what users, tools and migrations get is `postgres`, a demoted role (no
# superuser) with the supabase CLI's well-known local password.
SUPERUSER = "supabase_admin"
POSTGRES_USER = "postgres"
POSTGRES_PASSWORD = "postgres"
SUPERUSER_PASSWORD_FILE = "oncore_superuser.pw"  # inside the data directory: gone with it
LOCALE = "C.UTF-8"  # hosted Supabase's lc_collate / lc_ctype

# Client authentication: the superuser never over TCP, and with its password on the socket; other roles over the
# socket (owner-only, so only the stack's own OS user reaches it) without one.
PG_HBA = """\
# TYPE  DATABASE     USER            ADDRESS        METHOD
local   all          supabase_admin                 scram-sha-256
local   all          all                            trust
local   replication  all                            trust
host    all          supabase_admin  all            reject
host    replication  supabase_admin  all            reject
host    all          all             127.0.0.1/32   scram-sha-256
host    replication  all             127.0.0.1/32   scram-sha-256
"""
_REQUIRED = ("initdb", "pg_ctl", "postgres")

# Settings for a development / CI server: logical WAL for realtime, little memory, quick shutdown.
SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "wal_level": "logical",
    "max_replication_slots": "10",
    "max_wal_senders": "10",
    "max_connections": "100",
    "shared_buffers": "128MB",
    "synchronous_commit": "off",
    # logical decoding (realtime) sends only flushed WAL: with asynchronous commits the WAL writer's round sets
    # the commit → event latency (default 200 ms); while idle it hibernates and a commit wakes it at once
    "wal_writer_delay": "'1ms'",
    "unix_socket_permissions": "0700",
    "timezone": "'UTC'",
    "log_timezone": "'UTC'",
    "logging_collector": "off",
    "log_min_messages": "warning",
}


class PostgresError(RuntimeError):
    """A cluster could not be created, started or stopped; the message says why."""


@dataclass(frozen=True)
class PgBinaries:
    bindir: Path
    source: str  # "ONCORE_PG_BIN" | "system" | "pgserver"

    def __getitem__(self, name: str) -> str:
        return str(self.bindir / name)

    def version(self) -> str:
        out = subprocess.run([self["postgres"], "--version"], capture_output=True, text=True, check=True)
        return out.stdout.strip()


def _has_server(bindir: Path) -> bool:
    return all((bindir / name).is_file() and os.access(bindir / name, os.X_OK) for name in _REQUIRED)


def find_binaries() -> PgBinaries:
    """Locate initdb/pg_ctl/postgres, in the documented order of preference."""
    override = os.environ.get("ONCORE_PG_BIN")
    if override:
        path = Path(override)
        if not _has_server(path):
            raise PostgresError(f"ONCORE_PG_BIN={override} does not contain initdb, pg_ctl and postgres")
        return PgBinaries(path, "ONCORE_PG_BIN")
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    postgres = shutil.which("postgres")
    if postgres:
        candidates.append(Path(postgres).resolve().parent)
    for bindir in candidates:
        if _has_server(bindir):
            return PgBinaries(bindir, "system")
    bindir = pgserver_bindir()
    if bindir and _has_server(bindir):
        return PgBinaries(bindir, "pgserver")
    raise PostgresError(
        "no PostgreSQL server found: install the local extra (pip install 'oncore-cli[local]'), "
        "install PostgreSQL, or set ONCORE_PG_BIN"
    )


def pgserver_bindir() -> Path | None:
    """The server binaries bundled in the pgserver wheel, found without importing it (its import has side effects)."""
    import importlib.util

    spec = importlib.util.find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "pginstall" / "bin"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _userns_works() -> bool:
    unshare = shutil.which("unshare")
    if not unshare:
        return False
    try:
        res = subprocess.run([unshare, "--user", "--map-user=65534", "--map-group=65534", "true"],
                             capture_output=True, timeout=10)
        return res.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


class _Runner:
    """Runs PostgreSQL programs as a non-root user when we are root."""

    def __init__(self) -> None:
        self.prefix: list[str] = []
        self.user: tuple[int, int] | None = None
        if os.geteuid() != 0:
            return
        if _userns_works():
            self.prefix = [shutil.which("unshare") or "unshare", "--user", "--map-user=65534", "--map-group=65534"]
            return
        import pwd

        for name in ("postgres", "oncore-pg"):
            try:
                entry = pwd.getpwnam(name)
                break
            except KeyError:
                continue
        else:
            subprocess.run(["useradd", "--system", "--no-create-home", "oncore-pg"], check=True, capture_output=True)
            entry = pwd.getpwnam("oncore-pg")
        self.user = (entry.pw_uid, entry.pw_gid)

    def chown(self, path: Path) -> None:
        if self.user:
            for root, dirs, files in os.walk(path):
                os.chown(root, *self.user)
                for name in files:
                    os.chown(os.path.join(root, name), *self.user, follow_symlinks=False)

    def run(self, args: list[str], **kwargs) -> subprocess.CompletedProcess:
        preexec = None
        if self.user:
            uid, gid = self.user

            def preexec() -> None:  # pragma: no cover - runs in the child
                os.setgid(gid)
                os.setuid(uid)

        env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
        env.pop("PGDATA", None)
        return subprocess.run(self.prefix + args, preexec_fn=preexec, env=env, **kwargs)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_postmaster(pid: int, data_dir: Path) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _pid_alive(pid)  # no /proc (macOS): trust the pid
    return any(b"postgres" in part for part in cmdline[:1]) and str(data_dir).encode() in b" ".join(cmdline)


class Cluster:
    """A PostgreSQL cluster in `data_dir`; its unix socket lives in `data_dir/../run`."""

    def __init__(self, data_dir: Path | str, binaries: PgBinaries | None = None) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.socket_dir = self.data_dir.parent / "run"
        self.log_file = self.data_dir.parent / "logs" / "postgres.log"
        self._bins = binaries
        self._runner: _Runner | None = None

    @property
    def bins(self) -> PgBinaries:
        if self._bins is None:
            self._bins = find_binaries()
        return self._bins

    @property
    def runner(self) -> _Runner:
        if self._runner is None:
            self._runner = _Runner()
        return self._runner

    # -- state ---------------------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    def _pidfile(self) -> list[str] | None:
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return None

    def running_pid(self) -> int | None:
        """The postmaster's pid if this cluster's server is running, else None."""
        lines = self._pidfile()
        if not lines:
            return None
        try:
            pid = int(lines[0])
        except ValueError:
            return None
        return pid if _pid_alive(pid) and _is_postmaster(pid, self.data_dir) else None

    @property
    def port(self) -> int | None:
        lines = self._pidfile()
        return int(lines[3]) if lines and len(lines) > 3 and lines[3].strip().isdigit() else None

    @property
    def legacy(self) -> bool:
        """A cluster made by an older oncore: `postgres` is its superuser and its locale is C."""
        return self.initialized and not (self.data_dir / SUPERUSER_PASSWORD_FILE).is_file()

    def url(self, user: str = POSTGRES_USER, password: str | None = POSTGRES_PASSWORD,
            database: str = "postgres") -> str:
        """A TCP connection URL (what users and tools outside the stack use). It says `sslmode=disable`: the server
        speaks no TLS on loopback, and the supabase CLI would otherwise insist on TLS on any port but 54322."""
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}?sslmode=disable"

    def socket_conninfo(self, user: str = POSTGRES_USER, database: str = "postgres") -> str:
        """A unix-socket conninfo (owner-only socket, no password): the gateway's roles and migrations."""
        return f"host={self.socket_dir} port={self.port} user={user} dbname={database}"

    def admin_conninfo(self, database: str = "postgres") -> str:
        """The superuser over the unix socket, with the cluster's own password: the stack's bootstrap only."""
        password = (self.data_dir / SUPERUSER_PASSWORD_FILE).read_text().strip()
        return f"{self.socket_conninfo(SUPERUSER, database)} password={password}"

    # -- lifecycle -----------------------------------------------------------------------------------
    def init(self) -> None:
        """Create the cluster (initdb) if it does not exist yet."""
        if self.initialized:
            return
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise PostgresError(f"{self.data_dir} exists and is not a PostgreSQL cluster; remove it or choose another")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self.runner.chown(self.data_dir)
        password = secrets.token_urlsafe(32)
        pwfile = self.data_dir.parent / ".pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        if self.runner.user:
            os.chown(pwfile, *self.runner.user)
        try:
            res = self.runner.run(
                [self.bins["initdb"], "-D", str(self.data_dir), "-U", SUPERUSER, "-E", "UTF8", f"--locale={LOCALE}",
                 "--no-sync", "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"],
                capture_output=True, text=True,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if res.returncode != 0:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise PostgresError(f"initdb failed: {(res.stderr or res.stdout).strip().splitlines()[-1:]}")
        with open(self.data_dir / "postgresql.conf", "a") as conf:
            conf.write("\n# oncore local stack\n")
            for key, value in SERVER_SETTINGS.items():
                conf.write(f"{key} = {value}\n")
        (self.data_dir / "pg_hba.conf").write_text(PG_HBA)
        fd = os.open(self.data_dir / SUPERUSER_PASSWORD_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        self.runner.chown(self.data_dir)

    def _clear_stale_pidfile(self) -> None:
        """After a crash or kill -9 the pid file outlives the server; a reused pid must not block start."""
        lines = self._pidfile()
        if lines is not None and self.running_pid() is None:
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
            for lock in self.socket_dir.glob(".s.PGSQL.*"):
                lock.unlink(missing_ok=True)

    def start(self, port: int | None = None, timeout: float = 30.0) -> str:
        """Start the server (no-op when running) and return its TCP URL."""
        if not self.initialized:
            raise PostgresError(f"no cluster in {self.data_dir}; run init first")
        if self.running_pid():
            return self.url()
        self._clear_stale_pidfile()
        port = port or free_port()
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.runner.chown(self.socket_dir)
        if len(str(self.socket_dir)) > 90:
            raise PostgresError(f"path too long for a unix socket: {self.socket_dir}; use a shorter ONCORE_HOME")
        self.log_file.touch()
        self.runner.chown(self.log_file)
        res = self.runner.run(
            [self.bins["pg_ctl"], "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", str(int(timeout)),
             "-o", f"-p {port} -k {self.socket_dir}", "start"],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        if res.returncode != 0 or not self.running_pid():
            tail = self.log_file.read_text(errors="replace").strip().splitlines()[-3:]
            raise PostgresError("PostgreSQL did not start: " + " | ".join(tail or [res.stderr.strip()]))
        self._wait_ready(timeout)
        return self.url()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port or 0), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise PostgresError("PostgreSQL started but does not accept connections")

    def stop(self, mode: str = "fast", timeout: float = 30.0) -> bool:
        """Stop the server; returns False when it was not running."""
        pid = self.running_pid()
        if not pid:
            self._clear_stale_pidfile()
            return False
        res = self.runner.run(
            [self.bins["pg_ctl"], "-D", str(self.data_dir), "-m", mode, "-w", "-t", str(int(timeout)), "stop"],
            capture_output=True, text=True, stdin=subprocess.DEVNULL,
        )
        if res.returncode != 0 and self.running_pid():
            os.kill(pid, 9)
            time.sleep(0.2)
        return True

    def destroy(self) -> None:
        """Stop the server and delete the cluster's files."""
        self.stop(mode="immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)
