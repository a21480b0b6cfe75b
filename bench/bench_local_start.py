"""Figure: `oncore local start`, cold (new data directory) and warm (after `oncore local stop`), as whole processes.

Anchor, in the same run: the embedded PostgreSQL alone (initdb + pg_ctl start for cold, pg_ctl start for warm),
which is the floor under any local stack; `supabase start` (Docker) takes minutes and cannot run here.
Goals: cold <= 5 s, warm <= 1.5 s.

    python bench/bench_local_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oncore_cli.local.postgres import Cluster  # noqa: E402


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    oncore = [sys.executable, "-m", "oncore_cli"]
    cold, warm, pg_cold, pg_warm = [], [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="oh") as home:
            env = {**os.environ, "ONCORE_HOME": home, "NO_COLOR": "1"}
            start = oncore + ["local", "start", "--port", "0", "--db-port", "0"]
            try:
                cold.append(timed(start, env))
                subprocess.run(oncore + ["local", "stop"], env=env, check=True, capture_output=True)
                warm.append(timed(start, env))
            finally:
                subprocess.run(oncore + ["local", "stop"], env=env, capture_output=True)
        with tempfile.TemporaryDirectory(prefix="pg") as tmp:
            cluster = Cluster(Path(tmp) / "postgres")
            t = time.perf_counter()
            cluster.init()
            cluster.start()
            pg_cold.append(time.perf_counter() - t)
            cluster.stop()
            t = time.perf_counter()
            cluster.start()
            pg_warm.append(time.perf_counter() - t)
            cluster.destroy()
    rows = [("cold", statistics.median(cold), statistics.median(pg_cold), 5.0),
            ("warm", statistics.median(warm), statistics.median(pg_warm), 1.5)]
    print(f"oncore local start, median of {args.runs} runs (whole process)")
    for name, value, anchor, goal in rows:
        verdict = "ok" if value <= goal else "OVER GOAL"
        print(f"  {name}: {value:.2f} s   PostgreSQL alone: {anchor:.2f} s   ratio {value / anchor:.1f}x   "
              f"goal <= {goal} s: {verdict}")
    print("reproduce: python bench/bench_local_start.py --runs", args.runs)


if __name__ == "__main__":
    main()
