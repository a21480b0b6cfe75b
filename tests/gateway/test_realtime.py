"""/realtime/v1 through supabase-py's async realtime client (vsn 1.0.0), plus raw Phoenix frames for the error
replies: the guest_count story across a tour manager and a venue guest, RLS per subscriber, a burst in commit
order, a large row, broadcast, presence, token refresh and expiry."""

from __future__ import annotations

import asyncio
import json
import secrets
import string
import time
import uuid

import httpx
import psycopg
import pytest
from supabase import acreate_client
from websockets.asyncio.client import connect

from realtime_world import make_world, rest, rpc, user_token

WAIT = 30.0   # an upper bound for "arrives": the tests wait for events, they do not time them


@pytest.fixture(scope="module")
def world(stack):
    return make_world(stack, uuid.uuid4().hex[:8])


class Subscriber:
    """One supabase-py client, one channel, postgres_changes collected in arrival order."""

    def __init__(self, stack, token: str | None, name: str | None = None) -> None:
        self.stack, self.token = stack, token
        self.name = name or f"room-{uuid.uuid4().hex[:6]}"
        self.events: asyncio.Queue = asyncio.Queue()
        self.status: list = []

    async def open(self, bindings: list[dict]):
        self.client = await acreate_client(self.stack.api_url, self.stack.anon_key)
        if self.token:
            await self.client.realtime.set_auth(self.token)
        self.channel = self.client.channel(self.name)
        for b in bindings:
            self.channel.on_postgres_changes(b.get("event", "*"), schema="public", table=b["table"],
                                             filter=b.get("filter"), callback=self.events.put_nowait)
        subscribed = asyncio.Event()

        def on_status(status, error=None):
            self.status.append((str(status), error))
            subscribed.set()

        await self.channel.subscribe(on_status)
        await asyncio.wait_for(subscribed.wait(), WAIT)
        assert "SUBSCRIBED" in self.status[0][0], self.status
        return self

    async def next(self) -> dict:
        return (await asyncio.wait_for(self.events.get(), WAIT))["data"]

    async def close(self) -> None:
        await self.client.realtime.close()


def test_guest_count_story_reaches_tour_manager_and_guest_only(stack, world):
    async def scenario():
        tm = await Subscriber(stack, world.tm).open([{"table": "hospitality",
                                                      "filter": f"session_id=eq.{world.session}"}])
        guest = await Subscriber(stack, world.guest).open([{"table": "hospitality"}])
        other_guest = await Subscriber(stack, world.other_guest).open([{"table": "hospitality"}])
        outsider = await Subscriber(stack, world.outsider).open([{"table": "hospitality"}, {"table": "shows"}])

        await asyncio.to_thread(rpc, stack, world.guest, "submit_hospitality",
                                {"session_id": world.session, "data": {"guest_count": 15}})
        for who in (tm, guest):
            change = await who.next()
            assert change["type"] == "UPDATE" and change["table"] == "hospitality"
            assert change["record"]["guest_count"] == 15 and change["record"]["session_id"] == world.session
            assert change["old_record"]["guest_count"] is None   # replica identity full: the old value too
            assert {"name": "guest_count", "type": "int4"} in change["columns"]
            assert change["commit_timestamp"].endswith("Z") and change["errors"] is None

        # Later changes each of them may see, committed after the story's: per-socket order proves the absence.
        await asyncio.to_thread(rpc, stack, world.other_guest, "submit_hospitality",
                                {"session_id": world.other_session, "data": {"guest_count": 2}})
        assert (await other_guest.next())["record"]["session_id"] == world.other_session
        own = await asyncio.to_thread(rpc, stack, world.outsider, "create_organization",
                                      {"name": "Outsider", "slug": f"out-{uuid.uuid4().hex[:8]}"})
        await asyncio.to_thread(rest, stack, world.outsider, "POST", "shows",
                                {"org_id": own["id"], "date": "2027-01-01"})
        sentinel = await outsider.next()
        assert sentinel["table"] == "shows" and sentinel["record"]["org_id"] == own["id"]
        assert other_guest.events.empty() and outsider.events.empty()
        # the tour manager's binding is filtered to the first session: the other session's change did not come
        assert tm.events.empty()
        for s in (tm, guest, other_guest, outsider):
            await s.close()

    asyncio.run(scenario())


def test_burst_of_10000_changes_arrives_complete_and_in_commit_order(stack, world):
    async def scenario():
        tm = await Subscriber(stack, world.tm).open([{"event": "INSERT", "table": "shows",
                                                      "filter": f"org_id=eq.{world.org}"}])
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            with conn.pipeline():
                for n in range(10_000):   # 10,000 transactions, back to back
                    conn.execute("insert into public.shows (org_id, date, title) values (%s, '2028-01-01', %s)",
                                 (world.org, f"burst {n}"))
        titles = [(await tm.next())["record"]["title"] for _ in range(10_000)]
        assert titles == [f"burst {n}" for n in range(10_000)]
        await tm.close()
        with psycopg.connect(stack.db_url, autocommit=True) as conn:
            conn.execute("delete from public.shows where org_id = %s and title like 'burst %%'", (world.org,))

    asyncio.run(scenario())


def test_a_100_kb_row_arrives_whole_and_deletes_carry_the_key(stack, world):
    notes = "".join(secrets.choice(string.ascii_letters) for _ in range(100_000))   # incompressible: TOASTed

    async def scenario():
        tm = await Subscriber(stack, world.tm).open([{"table": "shows", "filter": f"org_id=eq.{world.org}"}])
        show = (await asyncio.to_thread(rest, stack, world.tm, "POST", "shows",
                                        {"org_id": world.org, "date": "2027-05-05", "notes": notes}))[0]
        inserted = await tm.next()
        assert inserted["type"] == "INSERT" and inserted["record"]["notes"] == notes
        await asyncio.to_thread(rest, stack, world.tm, "PATCH", f"shows?id=eq.{show['id']}", {"status": "confirmed"})
        updated = await tm.next()
        assert updated["record"]["notes"] == notes and updated["record"]["status"] == "confirmed"
        await asyncio.to_thread(rest, stack, world.tm, "DELETE", f"shows?id=eq.{show['id']}")
        # shows has RLS: a delete cannot be checked against it, so only the key goes out (as on Supabase); the
        # org filter then finds no org_id and the binding does not match
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(tm.events.get(), 1.0)
        await tm.close()

        unfiltered = await Subscriber(stack, world.tm).open([{"event": "DELETE", "table": "shows"}])
        doomed = (await asyncio.to_thread(rest, stack, world.tm, "POST", "shows",
                                          {"org_id": world.org, "date": "2027-05-06"}))[0]
        await asyncio.to_thread(rest, stack, world.tm, "DELETE", f"shows?id=eq.{doomed['id']}")
        deleted = await unfiltered.next()
        assert deleted["type"] == "DELETE" and deleted["old_record"] == {"id": doomed["id"]}
        assert "record" not in deleted
        await unfiltered.close()

    asyncio.run(scenario())


def test_filters_eq_neq_lt_lte_gt_gte_in(stack, world):
    async def scenario():
        specs = {"eq": "guest_count=eq.5", "neq": "guest_count=neq.5", "lt": "guest_count=lt.5",
                 "lte": "guest_count=lte.5", "gt": "guest_count=gt.5", "gte": "guest_count=gte.5",
                 "in": "guest_count=in.(3,7)"}
        subs = {op: await Subscriber(stack, world.tm).open([{"table": "hospitality", "filter": f}])
                for op, f in specs.items()}
        for count in (3, 5, 7):
            await asyncio.to_thread(rpc, stack, world.tm, "submit_hospitality",
                                    {"session_id": world.other_session, "data": {"guest_count": count}})
        expected = {"eq": [5], "neq": [3, 7], "lt": [3], "lte": [3, 5], "gt": [7], "gte": [5, 7], "in": [3, 7]}
        for op, counts in expected.items():
            got = [(await subs[op].next())["record"]["guest_count"] for _ in counts]
            assert got == counts, op
        # nothing more: a sentinel every binding matches would be needed to prove it; the last value (7) was the
        # last commit, so any stray event would already be queued
        await asyncio.sleep(0.2)
        assert all(s.events.empty() for s in subs.values())
        for s in subs.values():
            await s.close()

    asyncio.run(scenario())


def test_broadcast_presence_and_the_broadcast_api(stack, world):
    async def scenario():
        a = await acreate_client(stack.api_url, stack.anon_key)
        b = await acreate_client(stack.api_url, stack.anon_key)
        await a.realtime.set_auth(world.tm)
        await b.realtime.set_auth(world.guest)
        got: asyncio.Queue = asyncio.Queue()
        joins: asyncio.Queue = asyncio.Queue()
        ch_b = b.channel("stage", {"config": {"presence": {"key": "venue"}}})
        ch_b.on_broadcast("cue", lambda p: got.put_nowait(p))
        ch_b.on_presence_join(lambda key, current, new: joins.put_nowait((key, new)))
        ready = asyncio.Event()
        await ch_b.subscribe(lambda s, e=None: ready.set())
        await asyncio.wait_for(ready.wait(), WAIT)
        ch_a = a.channel("stage", {"config": {"presence": {"key": "tm"}}})
        ch_a.on_presence_sync(lambda: None)
        ready_a = asyncio.Event()
        await ch_a.subscribe(lambda s, e=None: ready_a.set())
        await asyncio.wait_for(ready_a.wait(), WAIT)

        await ch_a.send_broadcast("cue", {"song": 3})
        message = await asyncio.wait_for(got.get(), WAIT)
        assert message["event"] == "cue" and message["payload"] == {"song": 3}

        await ch_a.track({"role": "tour manager"})
        key, new = await asyncio.wait_for(joins.get(), WAIT)
        while key != "tm":
            key, new = await asyncio.wait_for(joins.get(), WAIT)
        assert new[0]["role"] == "tour manager" and new[0]["presence_ref"]
        assert "tm" in ch_b.presence_state()

        response = httpx.post(f"{stack.api_url}/realtime/v1/api/broadcast",
                              json={"messages": [{"topic": "stage", "event": "cue", "payload": {"song": 4}}]},
                              headers={"apikey": stack.anon_key, "Authorization": f"Bearer {world.tm}"})
        assert response.status_code == 202
        assert (await asyncio.wait_for(got.get(), WAIT))["payload"] == {"song": 4}
        forged = httpx.post(f"{stack.api_url}/realtime/v1/api/broadcast",
                            json={"messages": [{"topic": "stage", "event": "cue", "payload": {}}]},
                            headers={"apikey": stack.anon_key, "Authorization": f"Bearer {_forged(world.tm)}"})
        assert forged.status_code == 401
        await a.realtime.close()
        await b.realtime.close()

    asyncio.run(scenario())


# -- raw frames: error replies, tokens ---------------------------------------------------------------------------------

def _forged(token: str) -> str:
    head, body, signature = token.split(".")
    return ".".join((head, body, ("A" if signature[0] != "A" else "B") + signature[1:]))


class Raw:
    """A bare Phoenix V1 connection."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.ref = 0

    @classmethod
    async def open(cls, stack):
        url = stack.api_url.replace("http", "ws") + f"/realtime/v1/websocket?apikey={stack.anon_key}&vsn=1.0.0"
        return cls(await connect(url))

    async def push(self, topic: str, event: str, payload: dict, join_ref: str | None = None) -> str:
        self.ref += 1
        ref = str(self.ref)
        await self.ws.send(json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref,
                                       "join_ref": join_ref or ref}))
        return ref

    async def recv(self, event: str | None = None) -> dict:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))
            if event is None or message["event"] == event:
                return message

    async def join(self, topic: str, token: str, bindings: list | None = None) -> dict:
        ref = await self.push(topic, "phx_join", {"config": {"postgres_changes": bindings or []},
                                                  "access_token": token})
        reply = await self.recv("phx_reply")
        assert reply["ref"] == ref
        return reply


def test_error_replies_leave_other_connections_alone(stack, world):
    async def scenario():
        bystander = await Raw.open(stack)
        assert (await bystander.join("realtime:calm", world.tm))["payload"]["status"] == "ok"

        raw = await Raw.open(stack)
        forged = await raw.join("realtime:x", _forged(world.tm))
        assert forged["payload"] == {"status": "error",
                                     "response": {"reason": "JwtSignatureError: Failed to validate JWT signature"}}
        expired = await raw.join("realtime:x", user_token(stack, world.tm_id, exp_in=-60))
        assert expired["payload"]["response"]["reason"].startswith("InvalidJWTToken: Token has expired")
        garbage = await raw.join("realtime:x", "not-a-jwt")
        assert garbage["payload"]["response"]["reason"] == "MalformedJWT: The token provided is not a valid JWT"
        nameless = await raw.join("realtime:", world.tm)
        assert nameless["payload"]["response"]["reason"] == "TopicNameRequired: You must provide a topic name"

        ref = await raw.push("elsewhere", "broadcast", {"type": "broadcast", "event": "x", "payload": {}})
        unknown = await raw.recv("phx_reply")
        assert unknown == {"topic": "elsewhere", "event": "phx_reply", "ref": ref,
                           "payload": {"status": "error", "response": {"reason": "unmatched topic"}}}

        bad = await raw.join("realtime:bad", world.tm, [{"event": "*", "schema": "public", "table": "shows",
                                                         "filter": "status=foo.hey"}])
        assert bad["payload"]["status"] == "ok" and bad["payload"]["response"]["postgres_changes"][0]["id"]
        system = await raw.recv("system")
        assert system["ref"] is None and system["payload"]["status"] == "error"
        assert system["payload"]["message"] == 'Error parsing `filter` params: ["foo", "hey"]'
        await raw.join("realtime:bad2", world.tm, [{"event": "*", "schema": "public", "table": "shows",
                                                    "filter": "nope=eq.1"}])
        system = await raw.recv("system")
        assert "invalid column for filter nope" in system["payload"]["message"]
        await raw.join("realtime:bad3", world.tm, [{"event": "*", "schema": "public", "table": "venues"}])
        system = await raw.recv("system")   # venues are not in the publication
        assert system["payload"]["message"].startswith("Unable to subscribe to changes with given parameters")

        await raw.ws.send("{not json")
        await asyncio.wait_for(raw.ws.wait_closed(), WAIT)
        assert raw.ws.close_code == 1007

        ref = await bystander.push("phoenix", "heartbeat", {})
        beat = await bystander.recv("phx_reply")
        assert beat["ref"] == ref and beat["payload"]["status"] == "ok"
        await bystander.ws.close()

    asyncio.run(scenario())


def test_a_connection_with_a_forged_api_key_is_refused(stack, world):
    async def scenario():
        url = (stack.api_url.replace("http", "ws")
               + f"/realtime/v1/websocket?apikey={_forged(stack.anon_key)}&vsn=1.0.0")
        with pytest.raises(Exception) as refused:
            async with connect(url):
                pass
        assert "403" in str(refused.value) or "401" in str(refused.value)

    asyncio.run(scenario())


def test_token_refresh_keeps_a_channel_and_expiry_closes_it(stack, world):
    async def scenario():
        raw = await Raw.open(stack)
        # refreshed before it runs out: still open after the first token's expiry
        short = user_token(stack, world.tm_id, exp_in=2)
        joined = await raw.join("realtime:kept", short, [{"event": "*", "schema": "public", "table": "shows",
                                                          "filter": f"org_id=eq.{world.org}"}])
        assert joined["payload"]["status"] == "ok"
        await raw.recv("system")
        await raw.push("realtime:kept", "access_token", {"access_token": user_token(stack, world.tm_id)}, "1")
        await asyncio.sleep(max(0.0, json.loads(_payload(short))["exp"] - time.time()) + 0.5)
        await asyncio.to_thread(rest, stack, world.tm, "POST", "shows", {"org_id": world.org, "date": "2027-06-01"})
        change = await raw.recv("postgres_changes")
        assert change["payload"]["data"]["record"]["date"] == "2027-06-01"

        # not refreshed: a system error and phx_close when it runs out
        other = await Raw.open(stack)
        await other.join("realtime:lapsing", user_token(stack, world.tm_id, exp_in=2))
        system = await other.recv("system")
        assert system["payload"]["extension"] == "system" and system["payload"]["status"] == "error"
        assert "Token has expired" in system["payload"]["message"]
        close = await other.recv("phx_close")
        assert close["topic"] == "realtime:lapsing"
        await raw.ws.close()
        await other.ws.close()

    asyncio.run(scenario())


def _payload(token: str) -> str:
    import base64

    body = token.split(".")[1]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
