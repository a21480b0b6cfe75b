"""Connection pools: PostgREST connects as `authenticator`, GoTrue as `supabase_auth_admin`, Storage as
`supabase_storage_admin`, as on hosted Supabase."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from oncore_cli.local.gateway.config import GatewayConfig


class Database:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.rest = AsyncConnectionPool(config.conninfo("authenticator"), min_size=4, max_size=16, open=False,
                                        kwargs={"autocommit": True})
        self.auth = AsyncConnectionPool(config.conninfo("supabase_auth_admin"), min_size=1, max_size=8, open=False,
                                        kwargs={"autocommit": True})
        self.admin = AsyncConnectionPool(config.conninfo("postgres"), min_size=1, max_size=4, open=False,
                                         kwargs={"autocommit": True})

    async def open(self) -> None:
        for pool in (self.rest, self.auth, self.admin):
            await pool.open(wait=True, timeout=30)

    async def close(self) -> None:
        for pool in (self.rest, self.auth, self.admin):
            await pool.close()
