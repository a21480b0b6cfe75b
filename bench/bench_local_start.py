"""Figure: `oncore local start`, cold (new data directory) and warm (after `oncore local stop`), as whole processes.

Anchors, in the same run: the embedded PostgreSQL alone (initdb + pg_ctl start for cold, pg_ctl start for warm),
which is the floor under any local stack (`supabase start` with Docker takes minutes and cannot run here); and, with
`--baseline REF`, the same command from a `git worktree` of REF (e.g. main), runs interleaved with this checkout's,
so a change is judged against the code before it on the same machine at the same moment.
Goals: cold <= 5 s, warm <= 1.5 s; against a baseline, <= 1.2x of it.

    python bench/bench_local_start.py [--runs 3] [--baseline main]
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


def timed(cmd: list[str], env: dict, cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


REPO = Path(__file__).resolve().parent.parent


def start_stop(checkout: Path) -> tuple[float, float]:
    """(cold, warm) seconds of `oncore local start` run from `checkout`, in a new ONCORE_HOME."""
    oncore = [sys.executable, "-m", "oncore_cli"]
    with tempfile.TemporaryDirectory(prefix="oh") as home:
        env = {**os.environ, "ONCORE_HOME": home, "NO_COLOR": "1", "PYTHONPATH": str(checkout)}
        start = oncore + ["local", "start", "--port", "0", "--db-port", "0"]
        try:
            cold = timed(start, env, checkout)
            subprocess.run(oncore + ["local", "stop"], env=env, check=True, capture_output=True, cwd=checkout)
            warm = timed(start, env, checkout)
        finally:
            subprocess.run(oncore + ["local", "stop"], env=env, capture_output=True, cwd=checkout)
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", metavar="REF", help="also time REF (a git worktree of it), interleaved")
    args = parser.parse_args()
    cold, warm, pg_cold, pg_warm, base_cold, base_warm = [], [], [], [], [], []
    baseline = None
    if args.baseline:
        baseline = Path(tempfile.mkdtemp(prefix="oncore-baseline-"))
        subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", str(baseline), args.baseline],
                       check=True, capture_output=True)
    try:
        for _ in range(args.runs):
            if baseline:
                c, w = start_stop(baseline)
                base_cold.append(c)
                base_warm.append(w)
            c, w = start_stop(REPO)
            cold.append(c)
            warm.append(w)
            pg_c, pg_w = postgres_alone()
            pg_cold.append(pg_c)
            pg_warm.append(pg_w)
    finally:
        if baseline:
            subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(baseline)],
                           capture_output=True)
    rows = [("cold", statistics.median(cold), statistics.median(pg_cold), 5.0),
            ("warm", statistics.median(warm), statistics.median(pg_warm), 1.5)]
    print(f"oncore local start, median of {args.runs} runs (whole process)")
    for name, value, anchor, goal in rows:
        verdict = "ok" if value <= goal else "OVER GOAL"
        print(f"  {name}: {value:.2f} s   PostgreSQL alone: {anchor:.2f} s   ratio {value / anchor:.1f}x   "
              f"goal <= {goal} s: {verdict}")
    if baseline:
        for name, value, base in (("cold", statistics.median(cold), statistics.median(base_cold)),
                                  ("warm", statistics.median(warm), statistics.median(base_warm))):
            ratio = value / base
            print(f"  {name}: this checkout {value:.2f} s   {args.baseline}: {base:.2f} s   ratio {ratio:.2f}x   "
                  f"goal <= 1.2x: {'ok' if ratio <= 1.2 else 'OVER GOAL'}")
    print("reproduce: python bench/bench_local_start.py --runs", args.runs,
          *(["--baseline", args.baseline] if args.baseline else []))


def postgres_alone() -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="pg") as tmp:
        cluster = Cluster(Path(tmp) / "postgres")
        t = time.perf_counter()
        cluster.init()
        cluster.start()
        cold = time.perf_counter() - t
        cluster.stop()
        t = time.perf_counter()
        cluster.start()
        warm = time.perf_counter() - t
        cluster.destroy()
    return cold, warm


if __name__ == "__main__":
    main()
