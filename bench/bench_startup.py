"""Figure: whole-process wall time of `oncore --help` against `python -c "import typer"`, side by side in one run,
plus which heavy modules `import oncore_cli.app` loads (it must load none of them).

Goal: `oncore --help` <= 1.3x the anchor.

    python bench/bench_startup.py [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HEAVY = ("supabase", "supabase_auth", "postgrest", "httpx", "rich", "reportlab", "pydantic", "keyring",
         "oncore_cli.local", "oncore_cli.services", "oncore_cli.commands.shows")


def wall(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def heavy_imports(env: dict) -> list[str]:
    """Top-level packages among HEAVY that `python -X importtime -c "import oncore_cli.app"` reports."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-c", "import oncore_cli.app"], env=env,
                          capture_output=True, text=True, check=True)
    loaded = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    return sorted(name for name in HEAVY if any(m == name or m.startswith(name + ".") for m in loaded))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    env = {**os.environ, "NO_COLOR": "1"}
    anchor_cmd = [sys.executable, "-c", "import typer"]
    help_cmd = [sys.executable, "-m", "oncore_cli", "--help"]
    for cmd in (anchor_cmd, help_cmd):  # warm the page cache and the bytecode
        wall(cmd, env)
    anchor, oncore = [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine load
        anchor.append(wall(anchor_cmd, env))
        oncore.append(wall(help_cmd, env))
    a, o = statistics.median(anchor), statistics.median(oncore)
    print(f"runs: {args.runs} each, median wall time")
    print(f"  python -c 'import typer'   {a * 1000:7.1f} ms   (anchor)")
    print(f"  oncore --help              {o * 1000:7.1f} ms")
    print(f"  ratio                      {o / a:7.2f}x   (goal <= 1.30x: {'met' if o / a <= 1.3 else 'NOT met'})")
    heavy = heavy_imports(env)
    print(f"  heavy modules at start     {', '.join(heavy) if heavy else 'none'}   "
          f"(checked: {', '.join(HEAVY)})")
    print(f"reproduce: python bench/bench_startup.py --runs {args.runs}")
    print('           python -X importtime -c "import oncore_cli.app" 2>&1 | sort -t"|" -k2 -n | tail')


if __name__ == "__main__":
    main()
