"""Figure: a password sign-in round trip, `POST /auth/v1/token?grant_type=password`, p50 and p99 over N runs
with one keep-alive httpx client against a stack started for this run in a temporary ONCORE_HOME.

Anchors, in the same run: the `GET /auth/v1/health` round trip (HTTP + gateway overhead, no database, no hash)
and one bcrypt check at the cost the gateway uses (GoTrue's default 10), which dominates a sign-in by design.
Sign-in ≈ health round trip + bcrypt + a few INSERTs (session, refresh token) + signing the JWT.

    python bench/bench_signin.py [--runs 50]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bcrypt  # noqa: E402
import httpx  # noqa: E402

from oncore_cli.local.gateway.auth import policy  # noqa: E402
from oncore_cli.local.stack import LocalStack  # noqa: E402


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def timed(call, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        call()
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oh") as home:
        stack = LocalStack(home)
        # many sign-ins from one address: past GoTrue's per-address limit (supabase/config.toml), which this
        # figure is not about
        info, _ = stack.start(port=0, db_port=0, rate_limits={"token_refresh": 1e6, "sign_in_sign_ups": 1e6})
        try:
            with httpx.Client(base_url=f"{info.api_url}/auth/v1", headers={"apikey": info.anon_key}) as http:
                credentials = {"email": "bench@example.com", "password": "bench-password-1"}
                http.post("/signup", json=credentials).raise_for_status()

                def sign_in():
                    r = http.post("/token", params={"grant_type": "password"}, json=credentials)
                    assert r.status_code == 200, r.text

                def health():
                    assert http.get("/health").status_code == 200

                hashed = bcrypt.hashpw(b"bench-password-1", bcrypt.gensalt(policy.BCRYPT_COST))

                def bcrypt_check():
                    assert bcrypt.checkpw(b"bench-password-1", hashed)

                for _ in range(5):  # warm the connection pool and the keep-alive socket
                    sign_in()
                    health()
                # interleaved, so that the figure and its anchors see the same machine load
                signin, anchor, hashes = [], [], []
                for _ in range(args.runs):
                    signin += timed(sign_in, 1)
                    anchor += timed(health, 1)
                    hashes += timed(bcrypt_check, 1)
        finally:
            stack.stop()
    p50, p99 = statistics.median(signin), percentile(signin, 99)
    h50, h99 = statistics.median(anchor), percentile(anchor, 99)
    b50 = statistics.median(hashes)
    print(f"sign-in round trip (POST /auth/v1/token?grant_type=password), {args.runs} runs, one client")
    print(f"  sign-in:           p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    print(f"  anchor /health:    p50 {h50:7.2f} ms   p99 {h99:7.2f} ms   sign-in/health ratio {p50 / h50:.1f}x")
    print(f"  anchor bcrypt(cost {policy.BCRYPT_COST}) check alone: p50 {b50:7.2f} ms   "
          f"sign-in/bcrypt ratio {p50 / b50:.2f}x   overhead beyond bcrypt {p50 - b50:.2f} ms")
    print(f"reproduce: python bench/bench_signin.py --runs {args.runs}")


if __name__ == "__main__":
    main()
