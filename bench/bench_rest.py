"""REST throughput: `GET /rest/v1/shows?org_id=eq.X&limit=20` with RLS, 50 concurrent clients.

Starts its own local stack in a temporary ONCORE_HOME, seeds two organizations of 200 shows each (RLS has to
filter), signs a member in with a minted JWT, then drives the request with a load generator in another process
(`wrk` when installed, else a small asyncio keep-alive client) and prints requests per second, p50 and p99.
Anchor, same run and same load: the gateway's trivial `/auth/v1/health` endpoint (HTTP + ASGI cost alone).
With `--workers 2` it also measures the same gateway under uvicorn with two worker processes.

    python bench/bench_rest.py [--seconds 10] [--connections 50] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

GOAL_RPS, GOAL_P99_MS = 1500, 25.0


# -- load generation ---------------------------------------------------------------------------------------------

def run_wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> dict:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1]), "p50_ms": latency("50"),
            "requests": int(re.search(r"(\d+) requests in", out)[1]),
            "p99_ms": latency("99"), "errors": int(errors[1]) if errors else 0, "tool": "wrk"}


async def _asyncio_load(host: str, port: int, path: str, headers: dict[str, str], seconds: int,
                        connections: int, max_requests: int) -> dict:
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < deadline and len(latencies) < max_requests:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: (\d+)", head)[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            if not head.startswith(b"HTTP/1.1 2"):
                errors += 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*[client() for _ in range(connections)])
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50_ms": latencies[len(latencies) // 2] * 1000,
            "requests": len(latencies),
            "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000, "errors": errors, "tool": "asyncio"}


def run_load(url: str, headers: dict[str, str], seconds: int, connections: int, max_requests: int) -> dict:
    if shutil.which("wrk"):
        return run_wrk(url, headers, seconds, connections)
    # Same idea in a separate process, so the generator does not share the gateway's interpreter.
    args = json.dumps({"url": url, "headers": headers, "seconds": seconds, "connections": connections,
                       "max_requests": max_requests})
    out = subprocess.run([sys.executable, __file__, "--loadgen", args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def loadgen_main(args: str) -> None:
    from urllib.parse import urlsplit

    spec = json.loads(args)
    url = urlsplit(spec["url"])
    path = url.path + (f"?{url.query}" if url.query else "")
    result = asyncio.run(_asyncio_load(url.hostname, url.port, path, spec["headers"], spec["seconds"],
                                       spec["connections"], spec["max_requests"]))
    print(json.dumps(result))


def pgbench_anchor(info, token: str, org_id: str, seconds: int, connections: int) -> dict | None:
    """The same SQL the gateway runs for this request (setup + main statement, prepared), straight from pgbench:
    what PostgreSQL alone achieves on this machine."""
    if not shutil.which("pgbench"):
        return None
    import psycopg
    from urllib.parse import urlsplit

    from oncore_cli.local.gateway.jwt import decode
    from oncore_cli.local.gateway.rest import builder, query, schema_cache, wire

    async def main_sql() -> str:
        async with await psycopg.AsyncConnection.connect(info.db_url, autocommit=True) as conn:
            cache = await schema_cache.load(conn)
        parsed = query.parse_query([("org_id", f"eq.{org_id}"), ("limit", "20")])
        stmt = builder.build_read(cache, "public", "shows", parsed, count=False, shape="array")
        text, names = wire.to_positional(stmt.sql_bytes())
        assert names == ("p0",)
        return text.decode().replace("$1", f"'{org_id}'")

    claims = json.dumps(decode(token, info.jwt_secret)).replace("'", "''")
    script = (
        "BEGIN;\n"
        "select set_config('transaction_read_only', 'on', true), "
        "set_config('search_path', '\"public\", \"extensions\"', true), set_config('statement_timeout', '8s', true), "
        f"set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{claims}', true), "
        "set_config('request.method', 'GET', true), set_config('request.path', '/shows', true), "
        "set_config('request.headers', '{}', true), set_config('request.cookies', '{}', true);\n"
        f"{asyncio.run(main_sql())};\nCOMMIT;\n")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    url = urlsplit(info.db_url)
    try:
        out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", str(connections), "-j", "2", "-T", str(seconds),
                              "-f", f.name, "-h", url.hostname, "-p", str(url.port), "-U", url.username, url.path[1:]],
                             capture_output=True, text=True, env={**os.environ, "PGPASSWORD": url.password or ""})
    finally:
        os.unlink(f.name)
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    if not tps:
        print(f"  (pgbench anchor failed: {out.stderr.strip()[:200]})")
        return None
    return {"rps": float(tps[1]), "avg_ms": float(latency[1]) if latency else float("nan")}


def cpu_seconds(pid: int | None) -> float | None:
    """CPU time (user + system) a process has used so far; None where /proc is not available."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except (OSError, TypeError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- a multi-worker gateway for comparison -----------------------------------------------------------------------

def factory():
    from oncore_cli.local.gateway.app import create_app
    from oncore_cli.local.gateway.config import GatewayConfig

    return create_app(GatewayConfig.load(Path(os.environ["ONCORE_BENCH_GATEWAY_CONFIG"])))


def serve_main(port: int, workers: int, config: str) -> None:
    import uvicorn

    os.environ["ONCORE_BENCH_GATEWAY_CONFIG"] = config
    uvicorn.run("bench_rest:factory", factory=True, host="127.0.0.1", port=port, workers=workers,
                app_dir=str(Path(__file__).parent), log_level="warning", access_log=False)


# -- the benchmark -----------------------------------------------------------------------------------------------

def seed(info) -> tuple[str, str]:
    import httpx
    import psycopg

    from oncore_cli.local.gateway.jwt import encode

    rest = f"{info.api_url}/rest/v1"
    member_token = ""
    org_id = ""
    for label in ("other", "bench"):
        user_id = str(uuid.uuid4())
        with psycopg.connect(info.db_url, autocommit=True) as conn:
            conn.execute("insert into auth.users (id, aud, role, email) values (%s, 'authenticated', "
                         "'authenticated', %s)", (user_id, f"{label}-{user_id[:8]}@bench.test"))
        token = encode({"sub": user_id, "role": "authenticated", "aud": "authenticated",
                        "exp": int(time.time()) + 3600, "session_id": str(uuid.uuid4()), "is_anonymous": False},
                       info.jwt_secret)
        headers = {"apikey": info.anon_key, "Authorization": f"Bearer {token}"}
        org = httpx.post(f"{rest}/rpc/create_organization", headers=headers,
                         json={"name": f"Bench {label}", "slug": f"{label}-{user_id[:8]}"}).json()
        shows = [{"org_id": org["id"], "date": f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}", "title": f"Show {i}",
                  "status": "confirmed"} for i in range(200)]
        response = httpx.post(f"{rest}/shows", headers=headers, json=shows, params={"columns": "org_id,date,title,status"})
        response.raise_for_status()
        member_token, org_id = token, org["id"]
    return member_token, org_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="duration of each measured run (max 20)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--max-requests", type=int, default=20000, help="cap for the asyncio generator")
    parser.add_argument("--workers", type=int, default=0, help="also measure a gateway with N uvicorn workers")
    args = parser.parse_args()
    seconds = min(args.seconds, 20)

    import httpx

    from oncore_cli.local.postgres import free_port
    from oncore_cli.local.stack import LocalStack

    home = Path(tempfile.mkdtemp(prefix="ob"))
    stack = LocalStack(home)
    server = None
    try:
        info, _ = stack.start(port=0, db_port=0)
        token, org_id = seed(info)
        path = f"/rest/v1/shows?org_id=eq.{org_id}&limit=20"
        headers = {"apikey": info.anon_key, "Authorization": f"Bearer {token}"}
        check = httpx.get(info.api_url + path, headers=headers)
        assert check.status_code == 200 and len(check.json()) == 20, check.text
        print(f"REST throughput, {args.connections} concurrent clients, {seconds} s per run, "
              f"{os.cpu_count()} CPUs shared with PostgreSQL")

        def measure(label: str, base: str, pid: int | None = None) -> dict:
            run_load(base + path, headers, 2, args.connections, 2000)                 # warm-up
            cpu_before = cpu_seconds(pid)
            rest = run_load(base + path, headers, seconds, args.connections, args.max_requests)
            cpu_after = cpu_seconds(pid)
            anchor = run_load(base + "/auth/v1/health", {"apikey": info.anon_key}, seconds, args.connections,
                              args.max_requests)
            print(f"\n[{label}] load generator: {rest['tool']}")
            print(f"  GET /rest/v1/shows?org_id=eq.X&limit=20 (RLS): {rest['rps']:8.0f} req/s  "
                  f"p50 {rest['p50_ms']:6.1f} ms  p99 {rest['p99_ms']:6.1f} ms  errors {rest['errors']}")
            print(f"  anchor GET /auth/v1/health:                     {anchor['rps']:8.0f} req/s  "
                  f"p50 {anchor['p50_ms']:6.1f} ms  p99 {anchor['p99_ms']:6.1f} ms")
            if cpu_before is not None and cpu_after is not None and rest["requests"]:
                print(f"  gateway CPU per REST request (user + system): "
                      f"{(cpu_after - cpu_before) / rest['requests'] * 1e6:.0f} us")
            print(f"  ratio REST / anchor: {rest['rps'] / anchor['rps']:.2f}   goal: >= {GOAL_RPS} req/s "
                  f"({'met' if rest['rps'] >= GOAL_RPS else 'not met'}), p99 <= {GOAL_P99_MS:.0f} ms "
                  f"({'met' if rest['p99_ms'] <= GOAL_P99_MS else 'not met'})")
            return rest

        first = measure("1 worker, as `oncore local start` runs it", info.api_url, info.gateway_pid)
        # Before any extra gateway opens its pools: pgbench's 50 backends must fit in max_connections.
        pg = pgbench_anchor(info, token, org_id, seconds, args.connections)
        if pg:
            print(f"  anchor pgbench, same SQL (BEGIN; set_config ...; main query; COMMIT), {args.connections} "
                  f"backends: {pg['rps']:8.0f} tx/s  avg {pg['avg_ms']:.1f} ms")
            print(f"  ratio gateway / pgbench: {first['rps'] / pg['rps']:.2f}")
        if args.workers > 1:
            port = free_port()
            server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), str(args.workers),
                                       str(Path(info.data_dir) / "gateway.json")])
            for _ in range(100):
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/auth/v1/health", headers=headers).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            measure(f"{args.workers} uvicorn workers", f"http://127.0.0.1:{port}")
        print(f"\nreproduce: python bench/bench_rest.py --seconds {seconds} --connections {args.connections}"
              + (f" --workers {args.workers}" if args.workers else ""))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        stack.stop()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--loadgen":
        loadgen_main(sys.argv[2])
    elif len(sys.argv) > 4 and sys.argv[1] == "--serve":
        serve_main(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    else:
        main()
