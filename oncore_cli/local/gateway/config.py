"""Everything the gateway needs to run, read from the stack's state file (written 0600 by `oncore local start`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
    supabase_dir: Path     # migrations, functions, seed.sql, config.toml ([auth.rate_limit] and the like)
    # settings over config.toml's, e.g. {"sign_in_sign_ups": 10000} (see auth/limits.py): the test suite's shared
    # stack signs many users up from one address
    rate_limits: dict[str, Any] = field(default_factory=dict)
    header_timeout: float = 10.0   # seconds for a request's headers to arrive (nginx: client_header_timeout)
    body_timeout: float = 10.0     # seconds for an API request's whole body (nginx: client_body_timeout)
    idle_timeout: float = 5.0      # seconds a kept-alive connection may sit idle (uvicorn's timeout_keep_alive)
    function_timeout: float = 150.0  # seconds an edge function may take to answer (Kong's read timeout), then 504

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
            supabase_dir=Path(data["supabase_dir"]), rate_limits=dict(data.get("rate_limits") or {}),
            **{name: float(data[name]) for name in ("header_timeout", "body_timeout", "idle_timeout", "function_timeout") if name in data},
        )
