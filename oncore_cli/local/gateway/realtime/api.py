"""Realtime's broadcast REST API: `POST /api/broadcast` (a batch of messages) and
`POST /api/broadcast/{name}/events/{event}` (one message; JSON or raw bytes). Both answer 202 with no body."""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from oncore_cli.local.gateway.realtime.socket import TokenError, _encode_binary, verify_token


def _authorise(request: Request) -> Response | None:
    """The caller's JWT (Authorization bearer, else the apikey) must verify, as for a channel join."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        token = request.headers.get("apikey") or request.query_params.get("apikey") or ""
    try:
        verify_token(token.strip(), request.app.state.config.jwt_secret)
    except TokenError as e:
        return JSONResponse({"error": str(e).split(": ", 1)[-1]}, status_code=401)
    return None


def _refuse_private(private) -> Response | None:
    if private:
        return JSONResponse({"error": "Unauthorized: private channels are not available in the local stack"},
                            status_code=401)
    return None


async def broadcast_endpoint(request: Request) -> Response:
    refused = _authorise(request)
    if refused:
        return refused
    try:
        body = json.loads(await request.body())
        messages = body["messages"]
        if not isinstance(messages, list) or not all(
                isinstance(m, dict) and isinstance(m.get("topic"), str) and isinstance(m.get("event"), str)
                for m in messages):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "Unprocessable Entity", "message": "expected {\"messages\": [{topic, event, "
                                      "payload}]}"}, status_code=422)
    for m in messages:
        if refused := _refuse_private(m.get("private")):
            return refused
    hub = request.app.state.realtime.hub
    for m in messages:
        hub.broadcast("realtime:" + m["topic"],
                      {"type": "broadcast", "event": m["event"], "payload": m.get("payload", {})})
    return Response(status_code=202)


async def broadcast_event_endpoint(request: Request) -> Response:
    refused = _authorise(request) or _refuse_private(request.query_params.get("private") == "true")
    if refused:
        return refused
    name, event = request.path_params["name"], request.path_params["event"]
    topic = "realtime:" + name
    data = await request.body()
    hub = request.app.state.realtime.hub
    if request.headers.get("content-type", "").startswith("application/octet-stream"):
        hub.broadcast(topic, {}, binary=_encode_binary(topic, event, data))
    else:
        try:
            payload = json.loads(data) if data else {}
        except ValueError:
            return JSONResponse({"error": "Unprocessable Entity", "message": "the body is not JSON"}, status_code=422)
        hub.broadcast(topic, {"type": "broadcast", "event": event, "payload": payload})
    return Response(status_code=202)
