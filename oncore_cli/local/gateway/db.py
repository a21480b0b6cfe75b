"""Connection pools: PostgREST connects as `authenticator`, GoTrue as `supabase_auth_admin`, Storage as
`supabase_storage_admin`, as on hosted Supabase."""

from __future__ import annotations

from psycopg_pool import AsyncConnectionPool

from oncore_cli.local.gateway.config import GatewayConfig
from oncore_cli.local.gateway.pool import RestPool

REST_POOL_SIZE = 10   # PostgREST's default `db-pool`


class Database:
    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.rest = RestPool(config.conninfo("authenticator"), REST_POOL_SIZE)
        self.auth = AsyncConnectionPool(config.conninfo("supabase_auth_admin"), min_size=1, max_size=8, open=False,
                                        kwargs={"autocommit": True})
        self.admin = AsyncConnectionPool(config.conninfo("postgres"), min_size=1, max_size=4, open=False,
                                         kwargs={"autocommit": True})

    async def open(self) -> None:
        for pool in (self.auth, self.admin):
            await pool.open(wait=True, timeout=30)
        await self.rest.open()

    async def close(self) -> None:
        for pool in (self.rest, self.auth, self.admin):
            await pool.close()
