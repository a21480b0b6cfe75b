"""RealtimeService: the project's change feed, as `oncore tail` reads it.

Every write in oncore appends to `activity_log` in the same transaction (who, what, which row, each field's
old → new), and activity_log is in the realtime publication: so the feed is one postgres_changes subscription to
activity_log inserts, filtered by RLS like every other read, and what a client missed while it was away is in the
same table. A small Phoenix client (websockets, vsn 1.0.0) does the subscription; REST reads do history and names."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator
from urllib.parse import urlencode, urlsplit, urlunsplit

from oncore_cli.core.errors import AuthError, OncoreError, UsageError

if TYPE_CHECKING:
    from oncore_cli.core.client import Api

HEARTBEAT_SECONDS = 25.0
JOIN_TIMEOUT_SECONDS = 10.0
# entity names in activity_log, and what a user may type for them
TABLES = ("organizations", "org_members", "venues", "shows", "advancing_sessions", "advancing_guests",
          "hospitality", "technical", "production")
ALIASES = {"members": "org_members", "sessions": "advancing_sessions", "guests": "advancing_guests",
           "orgs": "organizations"}
_SEEN_LIMIT = 50_000


class Disconnected(Exception):
    """The realtime connection ended; the caller reconnects."""


class ChannelRefused(OncoreError):
    """The server refused the subscription (bad token, bad filter): reconnecting will not help."""

    exit_code = 4


def table_name(text: str) -> str:
    name = ALIASES.get(text.lower(), text.lower())
    if name not in TABLES:
        raise UsageError(f"unknown table {text!r}: use one of {', '.join(TABLES)}")
    return name


@dataclass
class Scope:
    """Which history a tail follows: an organization, or one advancing session (a venue guest's view)."""

    org_id: str | None = None
    session_id: str | None = None

    @property
    def realtime_filter(self) -> str | None:
        if self.session_id:
            return f"session_id=eq.{self.session_id}"
        if self.org_id:
            return f"org_id=eq.{self.org_id}"
        return None   # RLS alone: everything this user may read

    def rest_params(self) -> dict:
        if self.session_id:
            return {"session_id": f"eq.{self.session_id}"}
        if self.org_id:
            return {"org_id": f"eq.{self.org_id}"}
        return {}


class RealtimeService:
    def __init__(self, api: Api) -> None:
        self.api = api
        self._refs = itertools.count(1)
        self._names: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._people: dict[str, dict[str, str]] = {}

    # -- the live feed ---------------------------------------------------------------------------------------------
    def websocket_url(self) -> str:
        parts = urlsplit(self.api.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        path = parts.path.rstrip("/") + "/realtime/v1/websocket"
        return urlunsplit((scheme, parts.netloc, path, urlencode({"apikey": self.api.anon_key, "vsn": "1.0.0"}), ""))

    async def activity(self, scope: Scope, on_subscribed=None) -> AsyncIterator[dict]:
        """Yield activity_log rows as they are committed. Raises Disconnected when the connection drops, and
        ChannelRefused when the server refuses the subscription. `on_subscribed()` runs once the subscription is
        live (before any row is yielded): the place to catch up on what was missed."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

        token = await asyncio.to_thread(self.api.access_token)
        topic = f"realtime:oncore-tail-{uuid.uuid4().hex[:8]}"
        binding: dict[str, Any] = {"event": "INSERT", "schema": "public", "table": "activity_log"}
        if scope.realtime_filter:
            binding["filter"] = scope.realtime_filter
        join_ref = str(next(self._refs))
        try:
            async with connect(self.websocket_url(), max_size=None, ping_interval=None, open_timeout=10,
                               compression=None) as ws:
                await ws.send(json.dumps({"topic": topic, "event": "phx_join", "ref": join_ref, "join_ref": join_ref,
                                          "payload": {"config": {"postgres_changes": [binding],
                                                                 "broadcast": {"self": False, "ack": False},
                                                                 "presence": {"key": "", "enabled": False},
                                                                 "private": False},
                                                      "access_token": token}}))
                ids = await self._await_join(ws, topic, join_ref)
                heartbeat = asyncio.create_task(self._heartbeat(ws, topic, token))
                try:
                    if on_subscribed is not None:
                        for row in await on_subscribed():
                            yield row
                    async for raw in ws:
                        message = json.loads(raw)
                        event = message.get("event")
                        if message.get("topic") != topic:
                            continue
                        if event == "postgres_changes":
                            payload = message["payload"]
                            if set(payload.get("ids") or ()) & ids:
                                yield payload["data"]["record"]
                        elif event == "system" and message["payload"].get("status") == "error":
                            raise ChannelRefused(f"realtime: {message['payload'].get('message')}")
                        elif event in ("phx_close", "phx_error"):
                            raise Disconnected(f"the server closed the channel ({event})")
                finally:
                    heartbeat.cancel()
                raise Disconnected("the server closed the connection")
        except (ConnectionClosed, OSError, InvalidHandshake, asyncio.TimeoutError) as e:
            if isinstance(e, InvalidStatus) and e.response.status_code in (401, 403):
                raise AuthError("realtime refused the API key") from None
            raise Disconnected(str(e) or type(e).__name__) from None

    async def _await_join(self, ws, topic: str, join_ref: str) -> set[int]:
        ids: set[int] = set()
        deadline = asyncio.get_running_loop().time() + JOIN_TIMEOUT_SECONDS
        subscribed = False
        while not subscribed:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise Disconnected("the realtime join timed out")
            message = json.loads(await asyncio.wait_for(ws.recv(), remaining))
            if message.get("topic") != topic:
                continue
            payload = message.get("payload") or {}
            if message.get("event") == "phx_reply" and message.get("ref") == join_ref:
                if payload.get("status") != "ok":
                    reason = (payload.get("response") or {}).get("reason", "refused")
                    raise ChannelRefused(f"realtime refused the subscription: {reason}")
                ids = {b["id"] for b in payload["response"].get("postgres_changes", [])}
            elif message.get("event") == "system":
                if payload.get("status") != "ok":
                    raise ChannelRefused(f"realtime: {payload.get('message')}")
                subscribed = True
        return ids

    async def _heartbeat(self, ws, topic: str, token: str) -> None:
        """Phoenix heartbeats, and a fresh access token on the channel before the current one expires."""
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await ws.send(json.dumps({"topic": "phoenix", "event": "heartbeat", "payload": {},
                                      "ref": str(next(self._refs)), "join_ref": None}))
            try:
                fresh = await asyncio.to_thread(self.api.access_token)
            except OncoreError:
                continue
            if fresh != token:
                token = fresh
                await ws.send(json.dumps({"topic": topic, "event": "access_token", "payload": {"access_token": token},
                                          "ref": str(next(self._refs)), "join_ref": None}))

    # -- history -----------------------------------------------------------------------------------------------------
    def history(self, scope: Scope, since_iso: str, limit: int = 10_000) -> list[dict]:
        """activity_log rows committed since `since_iso`, oldest first."""
        params = {"select": "*", "created_at": f"gte.{since_iso}", "order": "created_at.asc,id.asc",
                  "limit": str(limit), **scope.rest_params()}
        return self.api.select("activity_log", params)

    # -- names -------------------------------------------------------------------------------------------------------
    def person(self, row: dict) -> str:
        """Who made the change: a member's e-mail, else their kind."""
        kind = row.get("actor_kind")
        if kind == "venue_guest":
            return "venue guest"
        if kind == "service":
            return "service"
        org_id, actor = row.get("org_id"), row.get("actor_id")
        if org_id and org_id not in self._people:
            try:
                members = self.api.rpc("list_org_members", {"org_id": org_id}) or []
                self._people[org_id] = {m["user_id"]: m.get("email") or "member" for m in members}
            except OncoreError:
                self._people[org_id] = {}
        return self._people.get(org_id, {}).get(actor) or "member"

    def name(self, row: dict) -> str:
        """The changed row's human name: a show's date and venue, a venue's or organization's name, a session's
        title or show; section rows are named by their session."""
        entity, entity_id = row.get("entity") or "", row.get("entity_id") or ""
        changes = row.get("changes") or {}
        if entity in ("venues", "organizations"):
            field = changes.get("name") or {}
            if field.get("new") or field.get("old"):
                return field.get("new") or field.get("old")
        if entity in ("hospitality", "technical", "production", "advancing_guests") and row.get("session_id"):
            return self._lookup("advancing_sessions", row["session_id"])
        if entity in ("org_members",):
            return self._people.get(row.get("org_id") or "", {}).get(entity_id) or entity_id[:8]
        return self._lookup(entity, entity_id) if entity_id else entity

    def _lookup(self, entity: str, entity_id: str) -> str:
        key = (entity, entity_id)
        if key in self._names:
            return self._names[key]
        name = entity_id[:8]
        try:
            if entity == "shows":
                rows = self.api.select("shows", {"select": "date,title,venues(name)", "id": f"eq.{entity_id}"})
                if rows:
                    name = _show_name(rows[0])
            elif entity == "advancing_sessions":
                rows = self.api.select("advancing_sessions", {"select": "title,shows(date,title,venues(name))",
                                                              "id": f"eq.{entity_id}"})
                if rows:
                    show = rows[0].get("shows")
                    name = rows[0].get("title") or (_show_name(show) if show else name)
            elif entity in ("venues", "organizations"):
                rows = self.api.select(entity, {"select": "name", "id": f"eq.{entity_id}"})
                if rows:
                    name = rows[0]["name"]
        except OncoreError:
            pass
        self._names[key] = name
        if len(self._names) > 4096:
            self._names.popitem(last=False)
        return name


def _show_name(show: dict) -> str:
    venue = (show.get("venues") or {}).get("name")
    return " ".join(part for part in (show.get("date"), venue or show.get("title")) if part)
