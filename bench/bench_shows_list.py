"""Figure: whole-process wall time of `oncore shows list --json` against a local stack, next to
`python -c "import typer"` in the same run.

The script starts its own stack in a temporary ONCORE_HOME, signs a user up through /auth/v1, logs in with
`oncore login` (tokens in a keyrings.alt file keyring in the same temp dir), creates an organization, a venue and
40 shows, then times both commands interleaved. Goal: <= 4x the anchor.

    python bench/bench_shows_list.py [--runs 20] [--shows 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import logged_in_stack, oncore, wall  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--shows", type=int, default=40)
    args = parser.parse_args()
    with logged_in_stack() as (info, env):
        oncore(env, "orgs", "create", "Bench Touring")
        venue = json.loads(oncore(env, "venues", "create", "Bench Hall", "--timezone", "Europe/Berlin",
                                  "--city", "Berlin", "--json"))
        org_id = venue["org_id"]
        rows = [{"org_id": org_id, "venue_id": venue["id"], "date": f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}",
                 "status": "confirmed", "doors_at": f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}T18:00:00Z"}
                for i in range(args.shows)]
        input_file = Path(env["ONCORE_HOME"]) / "shows.json"
        input_file.write_text(json.dumps(rows))
        oncore(env, "api", "POST", "/rest/v1/shows", "--input", str(input_file))
        listed = json.loads(oncore(env, "shows", "list", "--json"))
        assert len(listed) == args.shows, len(listed)

        anchor_cmd = [sys.executable, "-c", "import typer"]
        list_cmd = [sys.executable, "-m", "oncore_cli", "shows", "list", "--json"]
        wall(anchor_cmd, env), wall(list_cmd, env)  # warm caches
        anchor, timed = [], []
        for _ in range(args.runs):
            anchor.append(wall(anchor_cmd, env))
            timed.append(wall(list_cmd, env))
    a, o = statistics.median(anchor), statistics.median(timed)
    print(f"runs: {args.runs} each, median wall time; {args.shows} shows, local stack at {info.api_url}")
    print(f"  python -c 'import typer'      {a * 1000:7.1f} ms   (anchor)")
    print(f"  oncore shows list --json      {o * 1000:7.1f} ms")
    print(f"  ratio                         {o / a:7.2f}x   (goal <= 4.00x: {'met' if o / a <= 4 else 'NOT met'})")
    print(f"reproduce: python bench/bench_shows_list.py --runs {args.runs} --shows {args.shows}")


if __name__ == "__main__":
    main()
