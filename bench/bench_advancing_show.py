"""Figure: whole-process wall time of `oncore advancing show SESSION --json` against a local stack, next to
`python -c "import typer"` in the same run. Goal: <= 4x the anchor, with neither reportlab nor the local stack
imported (checked with -X importtime and printed).

The script starts its own stack with a logged-in user (bench/harness.py), creates an organization, a venue, a show
and an advancing session with filled-in sections, then times both commands interleaved.

    python bench/bench_advancing_show.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import cpu, logged_in_stack, oncore, wall  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with logged_in_stack() as (info, env):
        oncore(env, "orgs", "create", "Bench Touring")
        venue = json.loads(oncore(env, "venues", "create", "渋谷クラブクアトロ", "--timezone", "Asia/Tokyo",
                                  "--city", "東京", "--json"))
        show = json.loads(oncore(env, "shows", "create", "--date", "2027-03-01", "--venue", venue["id"],
                                 "--doors", "18:30", "--curfew", "00:30", "--json"))
        session = json.loads(oncore(env, "advancing", "create", show["id"], "--json"))["session_id"]
        oncore(env, "advancing", "set", session, "hospitality.guest_count=15", "technical.power=3-phase 63A",
               'hospitality.guest_list=[{"name": "Zoë", "plus_ones": 1}]', "production.merch.soft_split=20")

        anchor_cmd = [sys.executable, "-c", "import typer"]
        show_cmd = [sys.executable, "-m", "oncore_cli", "advancing", "show", session[:8], "--json"]
        assert json.loads(oncore(env, *show_cmd[3:]))["hospitality"]["guest_count"] == 15
        imported = subprocess.run([sys.executable, "-X", "importtime", *show_cmd[1:]], env=env,
                                  capture_output=True, text=True).stderr
        heavy = [name for name in ("reportlab", "oncore_cli.local", "oncore_cli.pdf", "supabase", "httpx")
                 if f" {name}" in imported]
        wall(anchor_cmd, env), wall(show_cmd, env)  # warm caches
        anchor, timed, anchor_cpu, timed_cpu = [], [], [], []
        for _ in range(args.runs):
            anchor.append(wall(anchor_cmd, env))
            timed.append(wall(show_cmd, env))
            anchor_cpu.append(cpu(anchor_cmd, env))
            timed_cpu.append(cpu(show_cmd, env))
    a, o = statistics.median(anchor), statistics.median(timed)
    print(f"runs: {args.runs} each, median wall time; local stack at {info.api_url}")
    print(f"  python -c 'import typer'              {a * 1000:7.1f} ms   (anchor)")
    print(f"  oncore advancing show SESSION --json  {o * 1000:7.1f} ms")
    print(f"  ratio                                 {o / a:7.2f}x   (goal <= 4.00x: {'met' if o / a <= 4 else 'NOT met'})")
    ac, oc = statistics.median(anchor_cpu), statistics.median(timed_cpu)
    print(f"  CPU (user+sys): anchor {ac * 1000:.1f} ms, advancing show {oc * 1000:.1f} ms, ratio {oc / ac:.2f}x")
    print(f"  heavy modules imported: {', '.join(heavy) or 'none (no reportlab, no local stack, no supabase/httpx)'}")
    print(f"reproduce: python bench/bench_advancing_show.py --runs {args.runs}")


if __name__ == "__main__":
    main()
