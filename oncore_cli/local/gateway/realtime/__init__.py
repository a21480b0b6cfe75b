"""/realtime/v1: Supabase Realtime's WebSocket (Phoenix channels: postgres_changes, broadcast, presence) and its
broadcast REST API, fed by logical decoding of the `supabase_realtime` publication."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.routing import Route, WebSocketRoute

from oncore_cli.local.gateway.realtime.api import broadcast_endpoint, broadcast_event_endpoint
from oncore_cli.local.gateway.realtime.socket import websocket_endpoint

routes = [
    WebSocketRoute("/websocket", websocket_endpoint),
    Route("/api/broadcast", broadcast_endpoint, methods=["POST"]),
    Route("/api/broadcast/{name}/events/{event}", broadcast_event_endpoint, methods=["POST"]),
]


@dataclass
class RealtimeState:
    hub: object
    stream: object


async def startup(app) -> None:
    """Open the replication stream (a temporary pgoutput slot) and start delivering its transactions."""
    from oncore_cli.local.gateway.realtime.capture import ReplicationStream
    from oncore_cli.local.gateway.realtime.hub import Hub

    db = app.state.db
    hub = Hub(db, None)   # types: the stream's catalogue, set below
    stream = ReplicationStream(db.replication_conninfo, db.config.conninfo(db.ADMIN_ROLE), hub.on_commit)
    hub.types = stream.types
    stream.on_relation = hub.relation_changed
    await stream.start()
    hub.start()
    app.state.realtime = RealtimeState(hub, stream)


async def shutdown(app) -> None:
    state = getattr(app.state, "realtime", None)
    if state is not None:
        await state.stream.stop()
        await state.hub.stop()
