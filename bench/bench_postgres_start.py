"""Figure: embedded PostgreSQL start through `Cluster`, cold (new cluster: init + start) and warm (stop, then start),
median of N runs (goals: cold <= 5 s, warm <= 1.5 s). Also shown: the first-start Supabase bootstrap + migrations.

Anchor, in the same run: the same binaries run bare (`initdb` + `pg_ctl start -w` for cold, `pg_ctl start -w` for
warm) in another temporary directory, so the ratio is what `Cluster` adds (settings, stale-pid recovery, readiness).

    python bench/bench_postgres_start.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oncore_cli.local.migrate import setup_database  # noqa: E402
from oncore_cli.local.postgres import Cluster, free_port  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_cluster(tmp: Path) -> tuple[float, float, float]:
    """(cold, warm, bootstrap+migrations) seconds through Cluster."""
    cluster = Cluster(tmp / "postgres")
    try:
        cold = timed(lambda: (cluster.init(), cluster.start()))
        migrate = timed(lambda: setup_database(cluster.admin_conninfo(), cluster.socket_conninfo()))
        cluster.stop()
        warm = timed(cluster.start)
        return cold, warm, migrate
    finally:
        cluster.destroy()


def run_bare(tmp: Path) -> tuple[float, float]:
    """(cold, warm) seconds for initdb + pg_ctl run directly, with the same binaries and user handling."""
    probe = Cluster(tmp / "unused")
    bins, runner = probe.bins, probe.runner
    data, sock = tmp / "bare", tmp / "sock"
    sock.mkdir()
    runner.chown(tmp)
    runner.chown(sock)
    port = free_port()
    pg_ctl = [bins["pg_ctl"], "-D", str(data), "-l", str(tmp / "bare.log"), "-w", "-o", f"-p {port} -k {sock}"]

    def init_and_start() -> None:
        runner.run([bins["initdb"], "-D", str(data), "-U", "postgres", "--no-sync", "-A", "trust"],
                   capture_output=True, check=True)
        runner.run(pg_ctl + ["start"], capture_output=True, check=True)

    cold = timed(init_and_start)
    runner.run([bins["pg_ctl"], "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True, check=True)
    warm = timed(lambda: runner.run(pg_ctl + ["start"], capture_output=True, check=True))
    runner.run([bins["pg_ctl"], "-D", str(data), "-m", "immediate", "-w", "stop"], capture_output=True)
    return cold, warm


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold, warm, migrate, bare_cold, bare_warm = [], [], [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="pg") as tmp:
            for series, value in zip((cold, warm, migrate), run_cluster(Path(tmp))):
                series.append(value)
        with tempfile.TemporaryDirectory(prefix="pg") as tmp:
            for series, value in zip((bare_cold, bare_warm), run_bare(Path(tmp))):
                series.append(value)
    print(f"embedded PostgreSQL start, median of {args.runs} runs")
    for name, value, anchor, goal in (("cold (init + start)", cold, bare_cold, 5.0),
                                      ("warm (start after stop)", warm, bare_warm, 1.5)):
        v, a = statistics.median(value), statistics.median(anchor)
        verdict = "ok" if v <= goal else "OVER GOAL"
        print(f"  {name}: {v:.2f} s   bare initdb/pg_ctl: {a:.2f} s   ratio {v / a:.2f}x   "
              f"goal <= {goal} s: {verdict}")
    print(f"  first start also applies bootstrap + migrations: {statistics.median(migrate):.2f} s")
    print(f"reproduce: python bench/bench_postgres_start.py --runs {args.runs}")


if __name__ == "__main__":
    main()
