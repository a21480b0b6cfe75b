"""Figure: whole-process wall time of `oncore advancing show SESSION --json` against a local stack, next to
`python -c "import typer"` in the same run. Goal: <= 4x the anchor, with neither reportlab nor the local stack
imported (checked with -X importtime and printed).

The script starts its own stack in a temporary ONCORE_HOME, signs a user up, logs in with `oncore login`
(keyrings.alt file keyring in the same temp dir), creates an organization, a venue, a show and an advancing session
with filled-in sections, then times both commands interleaved.

    python bench/bench_advancing_show.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from oncore_cli.local.stack import LocalStack  # noqa: E402


def wall(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def oncore(env: dict, *args: str, input: str | None = None) -> str:
    proc = subprocess.run([sys.executable, "-m", "oncore_cli", *args], env=env, input=input, text=True,
                          capture_output=True)
    if proc.returncode:
        raise SystemExit(f"oncore {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oh") as home:
        stack = LocalStack(home)
        info, _ = stack.start(port=0, db_port=0)
        try:
            env = {**os.environ, "ONCORE_HOME": home, "NO_COLOR": "1", "XDG_DATA_HOME": f"{home}/xdg",
                   "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring"}
            for name in ("ONCORE_PROFILE", "ONCORE_URL", "ONCORE_ACCESS_TOKEN", "ONCORE_ORG"):
                env.pop(name, None)
            email, password = "bench@example.com", "bench-password"
            request = urllib.request.Request(f"{info.api_url}/auth/v1/signup", method="POST",
                                             data=json.dumps({"email": email, "password": password}).encode(),
                                             headers={"apikey": info.anon_key, "Content-Type": "application/json"})
            urllib.request.urlopen(request).read()
            oncore(env, "login", "--local", "--email", email, "--password-stdin", input=password + "\n")
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
            anchor, timed = [], []
            for _ in range(args.runs):
                anchor.append(wall(anchor_cmd, env))
                timed.append(wall(show_cmd, env))
        finally:
            stack.stop()
    a, o = statistics.median(anchor), statistics.median(timed)
    print(f"runs: {args.runs} each, median wall time; local stack at {info.api_url}")
    print(f"  python -c 'import typer'              {a * 1000:7.1f} ms   (anchor)")
    print(f"  oncore advancing show SESSION --json  {o * 1000:7.1f} ms")
    print(f"  ratio                                 {o / a:7.2f}x   (goal <= 4.00x: {'met' if o / a <= 4 else 'NOT met'})")
    print(f"  heavy modules imported: {', '.join(heavy) or 'none (no reportlab, no local stack, no supabase/httpx)'}")
    print(f"reproduce: python bench/bench_advancing_show.py --runs {args.runs}")


if __name__ == "__main__":
    main()
