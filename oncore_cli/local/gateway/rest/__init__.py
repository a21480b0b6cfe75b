"""/rest/v1: a PostgREST-compatible REST API over the exposed schemas (see endpoints.py for the request cycle)."""

from __future__ import annotations

from starlette.routing import Route

from oncore_cli.local.gateway.rest.endpoints import (RestState, not_found_endpoint, options_endpoint, root_endpoint,
                                                     rpc_endpoint, table_endpoint)

_TABLE_METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE", "PUT"]

routes = [
    Route("/{path:path}", options_endpoint, methods=["OPTIONS"]),
    Route("/", root_endpoint, methods=["GET", "HEAD"]),
    Route("/rpc/{name}", rpc_endpoint, methods=_TABLE_METHODS),
    Route("/{name}", table_endpoint, methods=_TABLE_METHODS),
    Route("/{path:path}", not_found_endpoint, methods=_TABLE_METHODS),
]


async def startup(app) -> None:
    """Load the schema cache and LISTEN for `NOTIFY pgrst, 'reload schema'` on a dedicated connection."""
    from oncore_cli.local.gateway.rest.schema_cache import SchemaCacheHolder

    config = app.state.config
    holder = SchemaCacheHolder(config.conninfo("postgres"))
    await holder.start()
    app.state.rest = RestState(holder, config.jwt_secret)


async def shutdown(app) -> None:
    state = getattr(app.state, "rest", None)
    if state is not None:
        await state.holder.stop()
