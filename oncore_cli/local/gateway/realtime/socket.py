"""`/realtime/v1/websocket`: the Phoenix channel protocol as Supabase Realtime speaks it.

`vsn=1.0.0` frames are JSON objects (supabase-py), `vsn=2.0.0` JSON arrays plus binary broadcast frames
(supabase-js); replies go out in the framing the connection asked for. Every message leaves through one writer
task per socket, so a socket's messages keep their order and a slow client never holds up the others."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

import jwt as pyjwt
from starlette.websockets import WebSocket, WebSocketDisconnect

from oncore_cli.local.gateway.realtime import filters as flt
from oncore_cli.local.gateway.realtime.hub import Binding, Hub, binding_id
from oncore_cli.local.gateway.rest.auth import Identity

log = logging.getLogger("oncore.realtime")

_EVENTS = {"*", "INSERT", "UPDATE", "DELETE"}
_MAX_TOPIC = 255


class TokenError(Exception):
    pass


def verify_token(token: Any, secret: str) -> tuple[Identity, float]:
    """A channel's JWT as Realtime checks it (`ChannelsAuthorization`): signed, with `role` and `exp`, not expired.
    The error text is Realtime's join/shutdown reason."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise TokenError("MalformedJWT: The token provided is not a valid JWT")
    try:
        claims = pyjwt.decode(token, secret, algorithms=["HS256"],
                              options={"verify_exp": False, "verify_aud": False, "require": []})
    except pyjwt.InvalidSignatureError:
        raise TokenError("JwtSignatureError: Failed to validate JWT signature") from None
    except pyjwt.PyJWTError:
        raise TokenError("MalformedJWT: The token provided is not a valid JWT") from None
    role, exp = claims.get("role"), claims.get("exp")
    if not isinstance(role, str) or not role or not isinstance(exp, (int, float)):
        raise TokenError("InvalidJWTToken: Fields `role` and `exp` are required in JWT")
    now = time.time()
    if exp <= now:
        raise TokenError(f"InvalidJWTToken: Token has expired {int(now - exp)} seconds ago")
    return Identity(role, json.dumps(claims, separators=(",", ":"))), float(exp)


class Channel:
    def __init__(self, conn: "Connection", topic: str, join_ref: str | None) -> None:
        self.conn = conn
        self.topic = topic
        self.name = topic[len("realtime:"):]
        self.join_ref = join_ref
        self.identity: Identity | None = None
        self.token: str | None = None
        self.broadcast_self = False
        self.broadcast_ack = False
        self.presence_enabled = False
        self.presence_key = ""
        self._expiry: asyncio.TimerHandle | None = None
        self._change_frame: tuple[str, str] | None = None

    def __hash__(self) -> int:
        return id(self)

    # -- outgoing ----------------------------------------------------------------------------------------------------
    def send_change(self, ids: list[int], data_json: str) -> None:
        # the hot path (one call per subscriber per change): the frame around the payload is made once per channel
        frame = self._change_frame
        if frame is None:
            frame = self._change_frame = self.conn.frame(self.topic, "postgres_changes", None, None)
        ids_json = str(ids[0]) if len(ids) == 1 else ",".join(map(str, ids))
        self.conn.outbox.put_nowait(frame[0] + '{"ids":[' + ids_json + '],"data":' + data_json + "}" + frame[1])

    def send_broadcast(self, message: dict, binary: bytes | None) -> None:
        if binary is not None:
            if self.conn.v2:
                self.conn.send_bytes(binary)
            return   # raw binary payloads reach V2 clients only, as on Realtime
        self.conn.send(self.topic, "broadcast", message, None, None)

    def send_push(self, event: str, payload: dict, join_ref: bool = True) -> None:
        self.conn.send(self.topic, event, payload, None, self.join_ref if join_ref else None)

    def system(self, extension: str, status: str, message: str) -> None:
        self.send_push("system", {"extension": extension, "status": status, "message": message,
                                  "channel": self.name})

    # -- token -------------------------------------------------------------------------------------------------------
    def set_identity(self, identity: Identity, token: str, exp: float) -> None:
        self.identity, self.token = identity, token
        if self._expiry is not None:
            self._expiry.cancel()
        delay = max(0.0, exp - time.time())
        self._expiry = asyncio.get_running_loop().call_later(delay, self._expired, exp)

    def _expired(self, exp: float) -> None:
        self.conn.shutdown(self, f"Token has expired {int(time.time() - exp)} seconds ago")

    def cancel_timers(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()


class Connection:
    def __init__(self, websocket: WebSocket, hub: Hub, secret: str, apikey: str) -> None:
        self.ws = websocket
        self.hub = hub
        self.secret = secret
        self.apikey = apikey
        self.v2 = websocket.query_params.get("vsn", "1.0.0").startswith("2.")
        self.channels: dict[str, Channel] = {}
        self.outbox: asyncio.Queue[str | bytes | None] = asyncio.Queue()
        self.closing: tuple[int, str] | None = None

    # -- framing -----------------------------------------------------------------------------------------------------
    def send(self, topic: str, event: str, payload: Any, ref: str | None, join_ref: str | None) -> None:
        self.send_raw(topic, event, json.dumps(payload, separators=(",", ":"), ensure_ascii=False), ref, join_ref)

    def frame(self, topic: str, event: str, ref: str | None, join_ref: str | None) -> tuple[str, str]:
        """The text before and after a message's payload, in this connection's framing."""
        if self.v2:
            return f"[{json.dumps(join_ref)},{json.dumps(ref)},{json.dumps(topic)},\"{event}\",", "]"
        return f'{{"topic":{json.dumps(topic)},"event":"{event}","payload":', f',"ref":{json.dumps(ref)}}}'

    def send_raw(self, topic: str, event: str, payload_json: str, ref: str | None, join_ref: str | None) -> None:
        before, after = self.frame(topic, event, ref, join_ref)
        self.outbox.put_nowait(before + payload_json + after)

    def send_bytes(self, data: bytes) -> None:
        self.outbox.put_nowait(data)

    def reply(self, topic: str, ref: Any, join_ref: Any, status: str, response: dict) -> None:
        self.send(topic, "phx_reply", {"status": status, "response": response}, ref, join_ref)

    def decode(self, message: dict) -> tuple[Any, Any, str, str, Any] | None:
        """(join_ref, ref, topic, event, payload) of a text or binary frame; None when it is malformed."""
        if message.get("bytes") is not None:
            return _decode_binary(message["bytes"])
        try:
            data = json.loads(message.get("text") or "")
        except ValueError:
            return None
        if self.v2:
            if not isinstance(data, list) or len(data) != 5:
                return None
            join_ref, ref, topic, event, payload = data
        else:
            if not isinstance(data, dict):
                return None
            join_ref, ref = data.get("join_ref"), data.get("ref")
            topic, event, payload = data.get("topic"), data.get("event"), data.get("payload")
        if not isinstance(topic, str) or not isinstance(event, str) or not isinstance(payload, (dict, bytes)):
            return None
        return join_ref, ref, topic, event, payload

    # -- lifecycle ---------------------------------------------------------------------------------------------------
    async def serve(self) -> None:
        writer = asyncio.create_task(self._write())
        try:
            while self.closing is None:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                frame = self.decode(message)
                if frame is None:
                    # Phoenix's serializer cannot decode it: the socket ends (its channels with it)
                    self.closing = (1007, "malformed message")
                    break
                await self.handle(*frame)
        except WebSocketDisconnect:
            pass
        finally:
            for channel in list(self.channels.values()):
                self._drop(channel)
            self.outbox.put_nowait(None)
            try:
                await writer
            except Exception:
                pass

    async def _write(self) -> None:
        try:
            while True:
                item = await self.outbox.get()
                if item is None:
                    break
                if isinstance(item, bytes):
                    await self.ws.send_bytes(item)
                else:
                    await self.ws.send_text(item)
            if self.closing is not None:
                await self.ws.close(*self.closing)
        except Exception:   # the client went away
            pass

    def _drop(self, channel: Channel) -> None:
        channel.cancel_timers()
        self.hub.unsubscribe(channel)
        if self.channels.get(channel.topic) is channel:
            del self.channels[channel.topic]

    def shutdown(self, channel: Channel, message: str) -> None:
        """Realtime's channel shutdown: a `system` error, then `phx_close`."""
        if self.channels.get(channel.topic) is not channel:
            return
        channel.system("system", "error", message)
        self.send(channel.topic, "phx_close", {}, channel.join_ref, channel.join_ref)
        self._drop(channel)

    # -- incoming ----------------------------------------------------------------------------------------------------
    async def handle(self, join_ref: Any, ref: Any, topic: str, event: str, payload: Any) -> None:
        if topic == "phoenix" and event == "heartbeat":
            self.reply("phoenix", ref, None, "ok", {})
            return
        if event == "phx_join":
            await self._join_guarded(join_ref, ref, topic, payload)   # in order: later pushes see the channel
            return
        channel = self.channels.get(topic)
        if event == "phx_leave":
            self.reply(topic, ref, join_ref, "ok", {})
            if channel is not None:
                self.send(topic, "phx_close", {}, channel.join_ref, channel.join_ref)
                self._drop(channel)
            return
        if channel is None:
            self.reply(topic, ref, join_ref, "error", {"reason": "unmatched topic"})
            return
        if event == "access_token":
            self._access_token(channel, payload)
        elif event == "broadcast":
            self._broadcast(channel, ref, join_ref, payload)
        elif event == "presence":
            self._presence(channel, ref, join_ref, payload)
        # anything else is ignored, as Realtime logs and drops unexpected messages

    async def _join_guarded(self, join_ref, ref, topic, payload) -> None:
        try:
            await self._join(join_ref, ref, topic, payload)
        except Exception:
            log.exception("realtime: join of %s failed", topic)
            self.reply(topic, ref, join_ref, "error", {"reason": "UnknownErrorOnChannel: Unknown Error on Channel"})

    async def _join(self, join_ref, ref, topic: str, payload: Any) -> None:
        if not topic.startswith("realtime:"):
            self.reply(topic, ref, join_ref, "error", {"reason": "unmatched topic"})
            return
        if topic == "realtime:":
            self.reply(topic, ref, join_ref, "error", {"reason": "TopicNameRequired: You must provide a topic name"})
            return
        if not isinstance(payload, dict):
            payload = {}
        config = payload.get("config") if isinstance(payload.get("config"), dict) else {}
        if config.get("private"):
            # private channels authorise through realtime.messages policies, which this stack does not carry:
            # refusing is never looser than hosted Supabase
            self.reply(topic, ref, join_ref, "error", {
                "reason": "Unauthorized: You do not have permissions to read from this Channel topic: "
                          + topic[len("realtime:"):]})
            return
        token = payload.get("access_token") or payload.get("user_token")
        if not isinstance(token, str) or token.startswith("sb_"):
            token = self.apikey
        try:
            identity, exp = verify_token(token, self.secret)
        except TokenError as e:
            self.reply(topic, ref, join_ref, "error", {"reason": str(e)})
            return
        old = self.channels.get(topic)
        if old is not None:   # a second join of the same topic replaces the first
            self.send(topic, "phx_close", {}, old.join_ref, old.join_ref)
            self._drop(old)

        channel = Channel(self, topic, join_ref)
        channel.set_identity(identity, token, exp)
        broadcast = config.get("broadcast") if isinstance(config.get("broadcast"), dict) else {}
        channel.broadcast_self = bool(broadcast.get("self"))
        channel.broadcast_ack = bool(broadcast.get("ack"))
        presence = config.get("presence") if isinstance(config.get("presence"), dict) else {}
        channel.presence_enabled = bool(presence.get("enabled"))
        channel.presence_key = presence.get("key") or str(uuid.uuid4())

        requested = config.get("postgres_changes") or []
        if not isinstance(requested, list):
            requested = []
        echoed, bindings, errors = [], [], []
        for spec in requested:
            if not isinstance(spec, dict):
                continue
            bid = binding_id(spec)
            echoed.append({**spec, "id": bid})
            try:
                bindings.append(await self._binding(channel, bid, spec))
            except flt.FilterError as e:
                errors.append(str(e))
        self.channels[topic] = channel
        self.hub.join_topic(channel)
        self.reply(topic, ref, join_ref, "ok", {"postgres_changes": echoed})
        if channel.presence_enabled:
            channel.send_push("presence_state", self.hub.presence_state(topic))
        if errors:
            channel.system("postgres_changes", "error", errors[0])
        elif bindings:
            self.hub.subscribe(bindings)
            channel.system("postgres_changes", "ok", "Subscribed to PostgreSQL")

    async def _binding(self, channel: Channel, bid: int, spec: dict) -> Binding:
        event = str(spec.get("event") or "*").upper()
        event = event if event in _EVENTS else "*"
        schema = spec.get("schema")
        table = spec.get("table")
        if not isinstance(schema, str):
            schema = "public"
        if not isinstance(table, str):
            table = "*"
        raw_filter = spec.get("filter")
        params = f"[event: {event}, schema: {schema}, table: {table}, filters: %s, select: nil]"
        parsed = flt.parse(raw_filter if isinstance(raw_filter, str) else None)
        described = "[" + ", ".join(f.describe() for f in parsed) + "]"
        if table == "*":
            if parsed:
                raise flt.FilterError("Unable to subscribe to changes with given parameters. "
                                      f"Please check Realtime is enabled for the given connect parameters: "
                                      f"{params % described}")
            return Binding(channel, bid, event, schema, table)
        info = await self.hub.table(schema, table)
        if info is None or not info.published:
            raise flt.FilterError("Unable to subscribe to changes with given parameters. Please check Realtime is "
                                  f"enabled for the given connect parameters: {params % described}")
        try:
            compiled = flt.compile_filters(parsed, self.hub.converters(info))
        except flt.FilterError as e:
            raise flt.FilterError("Unable to subscribe to changes with given parameters. An exception happened so "
                                  f"please check your connect parameters: {params % described}. "
                                  f"Exception: ERROR P0001 (raise_exception) {e}") from None
        return Binding(channel, bid, event, schema, table, compiled)

    def _access_token(self, channel: Channel, payload: dict) -> None:
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or token.startswith("sb_") or token == channel.token:
            return
        try:
            identity, exp = verify_token(token, self.secret)
        except TokenError as e:
            self.shutdown(channel, str(e).split(": ", 1)[-1])
            return
        channel.set_identity(identity, token, exp)

    def _broadcast(self, channel: Channel, ref, join_ref, payload: Any) -> None:
        if isinstance(payload, tuple):   # binary kind-3 push: (event, meta, encoding, bytes)
            event, encoding, data = payload
            if encoding == 1:
                try:
                    body = json.loads(data)
                except ValueError:
                    body = None
                message = {"type": "broadcast", "event": event, "payload": body}
                self.hub.broadcast(channel.topic, message, sender=channel)
            else:
                self.hub.broadcast(channel.topic, {}, sender=channel, binary=_encode_binary(channel.topic, event, data))
        elif isinstance(payload, dict):
            message = {"type": "broadcast", "event": payload.get("event"), "payload": payload.get("payload")}
            self.hub.broadcast(channel.topic, message, sender=channel)
        if channel.broadcast_ack:
            self.reply(channel.topic, ref, join_ref, "ok", {})

    def _presence(self, channel: Channel, ref, join_ref, payload: dict) -> None:
        event = payload.get("event") if isinstance(payload, dict) else None
        if event == "track":
            meta = payload.get("payload")
            if not isinstance(meta, dict):
                self.reply(channel.topic, ref, join_ref, "error", {"reason": "presence payload must be an object"})
                return
            self.hub.track(channel, channel.presence_key, {**meta, "phx_ref": _phx_ref()})
        elif event == "untrack":
            self.hub.untrack(channel)
        else:
            self.reply(channel.topic, ref, join_ref, "error", {"reason": "unknown presence event"})
            return
        self.reply(channel.topic, ref, join_ref, "ok", {})


def _phx_ref() -> str:
    return uuid.uuid4().hex[:20]


def _decode_binary(data: bytes):
    """A V2 user-broadcast push (kind 3) → (join_ref, ref, topic, "broadcast", (event, encoding, payload))."""
    try:
        if data[0] != 3:
            return None
        jl, rl, tl, el, ml, encoding = data[1:7]
        pos = 7
        fields = []
        for size in (jl, rl, tl, el, ml):
            fields.append(data[pos:pos + size].decode())
            pos += size
        join_ref, ref, topic, event, _meta = fields
        return join_ref or None, ref or None, topic, "broadcast", (event, encoding, bytes(data[pos:]))
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def _encode_binary(topic: str, event: str, payload: bytes) -> bytes:
    """A V2 user-broadcast frame (kind 4) with a raw binary payload."""
    t, e = topic.encode(), event.encode()
    return bytes([4, len(t), len(e), 0, 0]) + t + e + payload


async def websocket_endpoint(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.realtime.hub
    secret = websocket.app.state.config.jwt_secret
    apikey = websocket.headers.get("apikey") or websocket.headers.get("x-api-key") \
        or websocket.query_params.get("apikey") or ""
    try:
        verify_token(apikey, secret)
    except TokenError as e:
        await websocket.close(1008, str(e)[:120])
        return
    await websocket.accept()
    await Connection(websocket, hub, secret, apikey).serve()
