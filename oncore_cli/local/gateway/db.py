"""Connection pools: PostgREST connects as `authenticator`, GoTrue as `supabase_auth_admin`, Storage as
`supabase_storage_admin`, as on hosted Supabase."""

from __future__ import annotations

import os

from psycopg_pool import AsyncConnectionPool

from oncore_cli.local.gateway.config import GatewayConfig
from oncore_cli.local.gateway.pool import RestPool

# PostgREST's default `db-pool` is 10; on a small machine fewer: backends beyond what the CPUs can run only queue
# in the kernel, where they take turns from the gateway's one event loop and stretch the latency tail
REST_POOL_SIZE = min(10, 2 * (os.cpu_count() or 1) + 2)


class Database:
    ADMIN_ROLE = "postgres"   # the gateway's internal connections (schema cache, realtime catalogue)

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.rest = RestPool(config.conninfo("authenticator"), REST_POOL_SIZE)
        self.auth = AsyncConnectionPool(config.conninfo("supabase_auth_admin"), min_size=1, max_size=8, open=False,
                                        kwargs={"autocommit": True})
        self.admin = AsyncConnectionPool(config.conninfo(self.ADMIN_ROLE), min_size=1, max_size=4, open=False,
                                         kwargs={"autocommit": True})

    @property
    def replication_conninfo(self) -> str:
        """Realtime's logical replication connection (the role needs REPLICATION)."""
        return self.config.conninfo(self.ADMIN_ROLE) + " replication=database"

    async def open(self) -> None:
        for pool in (self.auth, self.admin):
            await pool.open(wait=True, timeout=30)
        await self.rest.open()

    async def close(self) -> None:
        for pool in (self.rest, self.auth, self.admin):
            await pool.close()
