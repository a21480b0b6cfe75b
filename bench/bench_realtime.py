"""Realtime: commit → printed `oncore tail` line, and sustained fan-out.

1. Latency: 1,000 updates of one hospitality row (submit_hospitality as the tour manager, one transaction each,
   one at a time); for each, the time from sending COMMIT to `oncore tail --json` (a real subprocess) printing the
   line. Anchor, same run, same clock: a NOTIFY from sending COMMIT to a LISTENing connection receiving it — the
   floor for anything that learns of a commit from PostgreSQL.
2. Fan-out: 2,000 changes a second (a transaction of 20 inserts every 10 ms) for 30 s, each to 20 subscribers
   (20 different members, so 20 RLS identities) on raw Phoenix connections in another process: counts, order, and
   the gateway's CPU per delivered event.

Starts its own local stack in a temporary ONCORE_HOME.

    python bench/bench_realtime.py [--updates 1000] [--rate 2000] [--seconds 30] [--subscribers 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import select
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

GOAL_P50_MS, GOAL_P99_MS = 5.0, 25.0
ROOT = Path(__file__).resolve().parents[1]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- seeding ---------------------------------------------------------------------------------------------------------

def seed(info, members: int):
    import httpx
    import psycopg

    from oncore_cli.local.gateway.jwt import encode

    def token(user_id: str) -> str:
        return encode({"sub": user_id, "role": "authenticated", "aud": "authenticated",
                       "exp": int(time.time()) + 7200}, info.jwt_secret)

    ids = [str(uuid.uuid4()) for _ in range(members + 1)]
    with psycopg.connect(info.db_url, autocommit=True) as conn:
        for n, user_id in enumerate(ids):
            conn.execute("insert into auth.users (id, aud, role, email, email_confirmed_at) "
                         "values (%s, 'authenticated', 'authenticated', %s, now())",
                         (user_id, f"b{n}-{user_id[:6]}@x.test"))

    def call(tok: str, path: str, body):
        r = httpx.post(f"{info.api_url}/rest/v1/{path}", json=body, timeout=30,
                       headers={"apikey": info.anon_key, "Authorization": f"Bearer {tok}",
                                "Prefer": "return=representation"})
        assert r.status_code < 300, r.text
        return r.json()

    tm = ids[0]
    org = call(token(tm), "rpc/create_organization", {"name": "Bench", "slug": f"bench-{uuid.uuid4().hex[:6]}"})["id"]
    show = call(token(tm), "shows", {"org_id": org, "date": "2027-03-14"})[0]["id"]
    session = call(token(tm), "rpc/create_advancing_session", {"show_id": show})["session_id"]
    with psycopg.connect(info.db_url, autocommit=True) as conn:
        for n, user_id in enumerate(ids[1:]):
            conn.execute("insert into public.org_members (org_id, user_id, role) values (%s, %s, 'viewer')",
                         (org, user_id))
    return {"tm": tm, "tm_token": token(tm), "org": org, "session": session,
            "member_tokens": [token(u) for u in ids[1:]]}


# -- 1. latency ------------------------------------------------------------------------------------------------------

def as_user(conn, user_id: str) -> None:
    conn.execute("select set_config('role', 'authenticated', true), set_config('request.jwt.claims', %s, true)",
                 (json.dumps({"sub": user_id, "role": "authenticated"}),))


def tail_latency(info, world, updates: int) -> list[float]:
    import psycopg

    env = {k: v for k, v in os.environ.items() if not k.startswith("ONCORE_")}
    env.update(ONCORE_HOME=tempfile.mkdtemp(prefix="obt"), ONCORE_URL=info.api_url, ONCORE_ANON_KEY=info.anon_key,
               ONCORE_ACCESS_TOKEN=world["tm_token"], NO_COLOR="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "oncore_cli", "tail", "hospitality", "--json", "--session",
                             world["session"]], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0)
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        buffer = b""
        fd = proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return
            now = time.perf_counter()
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                lines.put((now, json.loads(line)))

    threading.Thread(target=read, daemon=True).start()
    while b"Watching" not in proc.stderr.readline():
        pass
    latencies = []
    try:
        with psycopg.connect(info.db_url) as conn:
            for n in range(-20, updates):   # 20 warm-up updates (name and person lookups are cached after one)
                as_user(conn, world["tm"])
                conn.execute("select public.submit_hospitality(%s, %s)",
                             (world["session"], json.dumps({"guest_count": n + 1000})))
                started = time.perf_counter()
                conn.commit()
                while True:
                    seen, line = lines.get(timeout=30)
                    if line["changes"].get("guest_count", {}).get("new") == n + 1000:
                        break
                if n >= 0:
                    latencies.append((seen - started) * 1000)
    finally:
        proc.send_signal(2)
        proc.wait(timeout=10)
    return latencies


def set_fsync(stack, on: bool) -> None:
    import psycopg

    with psycopg.connect(stack.cluster.admin_conninfo(), autocommit=True) as conn:  # a superuser setting
        conn.execute(f"alter system {'reset fsync' if on else 'set fsync = off'}")
        conn.execute("select pg_reload_conf()")
    time.sleep(0.5)


def notify_floor(info, count: int) -> list[float]:
    import psycopg

    listener = psycopg.connect(info.db_url, autocommit=True)
    listener.execute("listen bench_floor")
    fd = listener.pgconn.socket
    latencies = []
    with psycopg.connect(info.db_url) as conn:
        for n in range(-20, count):
            conn.execute("select pg_notify('bench_floor', %s)", (str(n),))
            started = time.perf_counter()
            conn.commit()
            while True:
                select.select([fd], [], [], 30)
                listener.pgconn.consume_input()
                note = listener.pgconn.notifies()
                if note is not None:
                    break
            if n >= 0:
                latencies.append((time.perf_counter() - started) * 1000)
    listener.close()
    return latencies


# -- 2. fan-out ------------------------------------------------------------------------------------------------------

def subscribers_main(config: str) -> None:
    """Child process: N raw Phoenix V1 connections, one per member; reports counts and order as JSON."""
    from websockets.asyncio.client import connect

    cfg = json.loads(config)

    async def one(token: str, index: int, ready: asyncio.Queue, done: asyncio.Event) -> dict:
        url = cfg["ws"]
        topic = f"realtime:bench-{index}"
        async with connect(url, max_size=None, compression=None) as ws:
            await ws.send(json.dumps({"topic": topic, "event": "phx_join", "ref": "1", "join_ref": "1",
                                      "payload": {"config": {"postgres_changes": [
                                          {"event": "INSERT", "schema": "public", "table": "shows",
                                           "filter": f"org_id=eq.{cfg['org']}"}]}, "access_token": token}}))
            while json.loads(await ws.recv())["event"] != "system":
                pass
            await ready.put(index)
            count, last, in_order = 0, -1, True
            while count < cfg["expected"]:
                text = await ws.recv()
                if '"event":"postgres_changes"' not in text:
                    continue
                start = text.index('"title":"') + 9   # cheaper than parsing 40,000 messages a second
                n = int(text[start:text.index('"', start)])
                in_order = in_order and n == last + 1
                last = n
                count += 1
            return {"count": count, "in_order": in_order, "finished": time.time()}

    async def main() -> None:
        ready: asyncio.Queue = asyncio.Queue()
        done = asyncio.Event()
        tasks = [asyncio.create_task(one(t, i, ready, done)) for i, t in enumerate(cfg["tokens"])]
        for _ in tasks:
            await ready.get()
        print("ready", flush=True)
        results = await asyncio.wait_for(asyncio.gather(*tasks), cfg["timeout"])
        print(json.dumps(results), flush=True)

    asyncio.run(main())


def fan_out(info, world, rate: int, seconds: int, subscribers: int, gateway_pid: int) -> dict:
    import psycopg

    total = rate * seconds
    cfg = {"ws": info.api_url.replace("http", "ws") + f"/realtime/v1/websocket?apikey={info.anon_key}&vsn=1.0.0",
           "org": world["org"], "tokens": world["member_tokens"][:subscribers], "expected": total,
           "timeout": seconds * 10 + 60}
    child = subprocess.Popen([sys.executable, __file__, "--subscribers-child", json.dumps(cfg)],
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert child.stdout.readline().strip() == "ready"
    cpu_before = cpu_seconds(gateway_pid)
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    started = time.perf_counter()
    with psycopg.connect(info.db_url, autocommit=True) as conn:
        n = 0
        while n < total:   # one transaction per 10 ms tick, its rows in order
            rows = list(range(n, min(n + per_tick, total)))
            conn.execute("insert into public.shows (org_id, date, title) select %s, '2028-01-01', t::text "
                         "from unnest(%s::int[]) with ordinality as u(t, o) order by o", (world["org"], rows))
            n += len(rows)
            wait = started + (n / rate) - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
    produced_s = time.perf_counter() - started
    produced_at = time.time()
    results = json.loads(child.stdout.readline())
    child.wait(timeout=30)
    cpu_after = cpu_seconds(gateway_pid)
    delivered = sum(r["count"] for r in results)
    return {"total": total, "produced_s": produced_s, "delivered": delivered, "expected": total * len(results),
            "in_order": all(r["in_order"] for r in results),
            "drain_s": max(r["finished"] for r in results) - produced_at,
            "cpu_us_per_event": (cpu_after - cpu_before) / delivered * 1e6 if cpu_before is not None else None,
            "gateway_cpu_s": cpu_after - cpu_before if cpu_before is not None else None}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--subscribers", type=int, default=20)
    parser.add_argument("--subscribers-child")
    args = parser.parse_args()
    if args.subscribers_child:
        subscribers_main(args.subscribers_child)
        return

    sys.path.insert(0, str(ROOT))
    from oncore_cli.local.stack import LocalStack

    home = Path(tempfile.mkdtemp(prefix="obr"))
    stack = LocalStack(home)
    try:
        info, _ = stack.start(port=0, db_port=0)
        world = seed(info, args.subscribers)
        print(f"Realtime, {os.cpu_count()} CPUs shared by PostgreSQL, the gateway, oncore tail and this script")

        tail = tail_latency(info, world, args.updates)
        floor = notify_floor(info, args.updates)
        # logical decoding sees a commit once its WAL is flushed: how much of the figure is this disk's fsync
        set_fsync(stack, False)
        tail_nofsync = tail_latency(info, world, min(args.updates, 300))
        set_fsync(stack, True)
        p50, p99, f50, f99 = pct(tail, 0.5), pct(tail, 0.99), pct(floor, 0.5), pct(floor, 0.99)
        print(f"\n1. commit → printed `oncore tail --json` line, {len(tail)} updates (submit_hospitality, RLS):")
        print(f"   oncore tail:            p50 {p50:6.2f} ms   p99 {p99:6.2f} ms")
        print(f"   anchor NOTIFY → LISTEN: p50 {f50:6.2f} ms   p99 {f99:6.2f} ms")
        print(f"   ratio tail / floor:     p50 {p50 / f50:6.1f}x   p99 {p99 / f99:6.1f}x")
        print(f"   same, fsync=off (WAL flush cost removed), {len(tail_nofsync)} updates: "
              f"p50 {pct(tail_nofsync, 0.5):6.2f} ms   p99 {pct(tail_nofsync, 0.99):6.2f} ms")
        print(f"   goal: p50 <= {GOAL_P50_MS} ms, p99 <= {GOAL_P99_MS} ms -> "
              f"{'met' if p50 <= GOAL_P50_MS and p99 <= GOAL_P99_MS else 'NOT met'}")

        fan = fan_out(info, world, args.rate, args.seconds, args.subscribers, stack.status().info.gateway_pid)
        print(f"\n2. {args.rate} changes/s for {args.seconds} s ({fan['total']} inserts, "
              f"{max(1, args.rate // 100)} per transaction, produced in {fan['produced_s']:.1f} s) "
              f"to {args.subscribers} subscribers ({args.subscribers} RLS identities):")
        print(f"   delivered {fan['delivered']} of {fan['expected']} "
              f"({fan['expected'] - fan['delivered']} lost), in commit order: {fan['in_order']}, "
              f"last one {fan['drain_s']:.2f} s after the last commit")
        if fan["cpu_us_per_event"] is not None:
            print(f"   gateway CPU: {fan['gateway_cpu_s']:.1f} s for {fan['delivered']} deliveries = "
                  f"{fan['cpu_us_per_event']:.1f} us per delivered event")
        print("\nreproduce: python bench/bench_realtime.py "
              f"--updates {args.updates} --rate {args.rate} --seconds {args.seconds} --subscribers {args.subscribers}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
