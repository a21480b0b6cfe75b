"""Figure: `create_advancing_session` server-side time, p50 and p99 over N calls (goal: p50 <= 5 ms).

Each call is one request as PostgREST makes it: a transaction with `set local role authenticated` and
`request.jwt.claims` for the organization's owner, committed. The time is taken inside the database
(clock_timestamp() around the call in a pg_temp function), so client and network time are left out.
Anchor, in the same run and measured the same way: a plain single-row INSERT into `venues` by the same user
(RLS check, validation trigger and activity trigger included), the cheapest write a client can make.
The RPC writes a session, its access code, three sections and an activity entry in one transaction.

Runs on its own embedded PostgreSQL cluster in a temporary directory (bootstrap + supabase/migrations).

    python bench/bench_rpc.py [--calls 1000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from oncore_cli.local.migrate import setup_database  # noqa: E402
from oncore_cli.local.postgres import Cluster  # noqa: E402

TIMERS = """
create function pg_temp.time_rpc(show uuid) returns double precision language plpgsql as $$
declare t0 timestamptz := clock_timestamp();
begin
  perform public.create_advancing_session(show);
  return extract(epoch from clock_timestamp() - t0) * 1000;
end $$;
create function pg_temp.time_insert(org uuid) returns double precision language plpgsql as $$
declare t0 timestamptz := clock_timestamp();
begin
  insert into public.venues (org_id, name, city, country, timezone, capacity)
  values (org, 'Bench Hall', 'Berlin', 'DE', 'Europe/Berlin', 500);
  return extract(epoch from clock_timestamp() - t0) * 1000;
end $$;
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def as_owner(conn: psycopg.Connection, owner: str, sql: str, params: tuple):
    """One committed request as the owner; returns the first column of the first row."""
    with conn.transaction():
        conn.execute("select set_config('role', 'authenticated', true)")
        conn.execute("select set_config('request.jwt.claims', %s, true)",
                     (json.dumps({"sub": owner, "role": "authenticated"}),))
        return conn.execute(sql, params).fetchone()[0]


def measure(conninfo: str, calls: int) -> tuple[list[float], list[float]]:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        owner = str(uuid.uuid4())
        conn.execute("insert into auth.users (id, email, aud, role) values (%s, 'bench@example.test', "
                     "'authenticated', 'authenticated')", (owner,))
        org = as_owner(conn, owner, "select id from create_organization('Bench', %s)", (f"bench-{owner[:8]}",))
        show = as_owner(conn, owner, "insert into shows (org_id, date) values (%s, '2027-01-01') returning id", (org,))
        conn.execute(TIMERS)
        for _ in range(20):  # warm caches and plans
            as_owner(conn, owner, "select pg_temp.time_rpc(%s)", (show,))
            as_owner(conn, owner, "select pg_temp.time_insert(%s)", (org,))
        rpc, insert = [], []
        for _ in range(calls):  # interleaved, so both see the same conditions
            rpc.append(as_owner(conn, owner, "select pg_temp.time_rpc(%s)", (show,)))
            insert.append(as_owner(conn, owner, "select pg_temp.time_insert(%s)", (org,)))
        return rpc, insert


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pg") as tmp:
        cluster = Cluster(Path(tmp) / "postgres")
        cluster.init()
        url = cluster.start()
        try:
            setup_database(cluster.admin_conninfo(), cluster.socket_conninfo())
            rpc, insert = measure(url, args.calls)
        finally:
            cluster.destroy()
    rpc_p50, rpc_p99 = statistics.median(rpc), percentile(rpc, 99)
    ins_p50, ins_p99 = statistics.median(insert), percentile(insert, 99)
    verdict = "ok" if rpc_p50 <= 5.0 else "OVER GOAL"
    print(f"create_advancing_session, server side, {args.calls} calls (one committed request each)")
    print(f"  p50 {rpc_p50:.3f} ms   p99 {rpc_p99:.3f} ms   goal p50 <= 5 ms: {verdict}")
    print(f"anchor: single-row INSERT into venues as the same user, {args.calls} calls")
    print(f"  p50 {ins_p50:.3f} ms   p99 {ins_p99:.3f} ms")
    print(f"ratio (p50): {rpc_p50 / ins_p50:.1f}x")
    print(f"reproduce: python bench/bench_rpc.py --calls {args.calls}")


if __name__ == "__main__":
    main()
