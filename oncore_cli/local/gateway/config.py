"""Everything the gateway needs to run, read from the stack's state file (written 0600 by `oncore local start`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class GatewayConfig:
    host: str
    port: int
    db_port: int
    socket_dir: Path       # PostgreSQL's unix socket directory (trust auth, owner-only)
    jwt_secret: str
    anon_key: str
    service_role_key: str
    data_dir: Path         # $ONCORE_HOME/local: mail outbox, storage objects, logs
    supabase_dir: Path     # migrations, functions, seed.sql

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def conninfo(self, user: str, database: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.db_port} user={user} dbname={database}"

    @classmethod
    def load(cls, path: Path) -> "GatewayConfig":
        data = json.loads(Path(path).read_text())
        return cls(
            host=data["host"], port=int(data["port"]), db_port=int(data["db_port"]),
            socket_dir=Path(data["socket_dir"]), jwt_secret=data["jwt_secret"], anon_key=data["anon_key"],
            service_role_key=data["service_role_key"], data_dir=Path(data["data_dir"]),
            supabase_dir=Path(data["supabase_dir"]),
        )
