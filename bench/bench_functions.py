"""Edge function invocation: through the local stack (`/functions/v1/stripe-webhook`) vs a direct HTTP call to
`deno run` of the same file.

Starts its own local stack in a temporary ONCORE_HOME and, beside it, `deno run --allow-all
supabase/functions/stripe-webhook/index.ts` listening on its own port with the same environment. The request is a
correctly signed Stripe event of a type the webhook ignores (signature checked, nothing written), so both paths do
the same work. Warm: sequential keep-alive requests, the two paths (and the gateway's floor) in turn, median and p90. Cold: through the stack, the first request
after a secret change (the worker is started again); directly, from spawning Deno to the first answer.
Goal: warm median through the stack ≤ 1.5× the direct call.

    python bench/bench_functions.py [--requests 300] [--cold 3]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oncore_cli.local.functions import deno_binary, deno_env, read_secrets, write_secrets  # noqa: E402
from oncore_cli.local.paths import supabase_dir  # noqa: E402
from oncore_cli.local.stack import LocalStack  # noqa: E402

GOAL = 1.5
SECRET = "whsec_bench"


def signed_request() -> tuple[bytes, dict]:
    now = int(time.time())
    body = json.dumps({"id": "evt_bench", "type": "charge.refunded", "created": now, "data": {"object": {}}})
    signature = hmac.new(SECRET.encode(), f"{now}.{body}".encode(), hashlib.sha256).hexdigest()
    return body.encode(), {"Stripe-Signature": f"t={now},v1={signature}", "Content-Type": "application/json"}


def warm(targets: list[tuple[str, str, dict]], n: int) -> list[list[float]]:
    """Median-worthy timings of `n` sequential keep-alive requests to each (method, url, extra headers) target,
    interleaved (one request to each in turn), so a change in the machine's load during the run hits every target
    alike. Each target has its own client (connection)."""
    body, headers = signed_request()
    clients = [httpx.Client() for _ in targets]
    try:
        def call(i: int) -> float:
            method, url, extra = targets[i]
            t = time.perf_counter()
            r = clients[i].request(method, url, content=body if method == "POST" else None, headers={**headers, **extra})
            ms = (time.perf_counter() - t) * 1000
            assert r.status_code == 200, r.text
            return ms

        for _ in range(20):  # warm-up: JIT, connections
            for i in range(len(targets)):
                call(i)
        times: list[list[float]] = [[] for _ in targets]
        for _ in range(n):
            for i in range(len(targets)):
                times[i].append(call(i))
        return times
    finally:
        for client in clients:
            client.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_direct(env: dict, port: int) -> tuple[subprocess.Popen, float]:
    entry = supabase_dir() / "functions" / "stripe-webhook" / "index.ts"
    started = time.perf_counter()
    proc = subprocess.Popen([deno_binary(), "run", "--allow-all", "--no-prompt", str(entry)],
                            env={**deno_env(dict(os.environ)), **env, "DENO_SERVE_ADDRESS": f"tcp:127.0.0.1:{port}",
                                 "NO_COLOR": "1"},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    body, headers = signed_request()
    while True:
        try:
            if httpx.post(f"http://127.0.0.1:{port}/stripe-webhook", content=body, headers=headers).status_code == 200:
                return proc, (time.perf_counter() - started) * 1000
        except httpx.TransportError:
            time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--cold", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="oh"))
    stack = LocalStack(home)
    info, _ = stack.start(port=0, db_port=0)
    data_dir = home / "local"
    direct_procs = []
    try:
        write_secrets(data_dir, {"STRIPE_WEBHOOK_SECRET": SECRET})
        env = {"SUPABASE_URL": info.api_url, "SUPABASE_ANON_KEY": info.anon_key,
               "SUPABASE_SERVICE_ROLE_KEY": info.service_role_key, "STRIPE_WEBHOOK_SECRET": SECRET}
        url = f"{info.api_url}/functions/v1/stripe-webhook"
        body, headers = signed_request()
        cold_stack = []
        for i in range(args.cold):
            write_secrets(data_dir, {**read_secrets(data_dir), "BENCH_ROUND": str(i)})  # restarts the worker
            t = time.perf_counter()
            assert httpx.post(url, content=body, headers=headers, timeout=60).status_code == 200
            cold_stack.append((time.perf_counter() - t) * 1000)
        cold_direct = []
        for _ in range(args.cold):
            proc, ms = start_direct(env, free_port())
            cold_direct.append(ms)
            proc.kill()
            proc.wait()
        port = free_port()
        proc, _ = start_direct(env, port)
        direct_procs.append(proc)
        through, direct, floor = warm([
            ("POST", url, {}),
            ("POST", f"http://127.0.0.1:{port}/stripe-webhook", {}),
            # the gateway's own floor: its cheapest endpoint, no function
            ("GET", f"{info.api_url}/auth/v1/health", {"apikey": info.anon_key}),
        ], args.requests)
    finally:
        for proc in direct_procs:
            proc.kill()
        stack.stop()

    med_s, med_d = statistics.median(through), statistics.median(direct)
    p90 = lambda xs: statistics.quantiles(xs, n=10)[-1]  # noqa: E731
    print(f"warm, through the stack : median {med_s:.2f} ms  p90 {p90(through):.2f} ms  ({args.requests} requests)")
    print(f"warm, deno run directly : median {med_d:.2f} ms  p90 {p90(direct):.2f} ms  (anchor)")
    print(f"ratio (median)          : {med_s / med_d:.2f}x  (goal <= {GOAL}x: {'met' if med_s / med_d <= GOAL else 'NOT met'})")
    print(f"gateway floor           : median {statistics.median(floor):.2f} ms  (GET /auth/v1/health, same client)")
    print(f"cold, through the stack : median {statistics.median(cold_stack):.0f} ms  (worker restart + first call)")
    print(f"cold, deno run directly : median {statistics.median(cold_direct):.0f} ms  (spawn to first answer)")
    print("reproduce: python bench/bench_functions.py --requests 300 --cold 3")


if __name__ == "__main__":
    main()
