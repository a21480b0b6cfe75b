"""Bulk import figures, side by side in one run on a fresh local stack.

1. `oncore import shows` of 10,000 generated shows over 800 venues through the API, vs psql `\\copy` of the same
   rows into the same table (goal <= 8x); the same through `--db-url` (goal <= 3x).
2. The same file imported again: wall time vs `\\copy` (goal <= 10x) and rows written (n_tup_ins/n_tup_upd of
   shows and venues unchanged: goal 0).
3. Validation of a 10,000-row file with one bad row at the end (nothing written) vs parsing it with the csv module
   alone (goal <= 2x). Each is timed in a fresh interpreter, as `oncore import` always runs, after its imports: the
   anchor is `list(csv.reader(file))` (the file parsed into its rows); counting the rows without keeping them is
   printed too. Medians of --runs alternating runs.

Run: python bench/bench_import.py [--runs 9] [--validation-only]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from oncore_cli.local.stack import LocalStack  # noqa: E402
from oncore_cli.services.imports import payload, read_plan  # noqa: E402

N_SHOWS, N_VENUES = 10_000, 800
HEADER = ["date", "city", "country", "venue_name", "venue_address", "capacity", "status", "load_in", "doors",
          "set_time", "curfew", "timezone", "promoter_email", "notes"]
ZONES = [("DE", "Europe/Berlin"), ("FR", "Europe/Paris"), ("GB", "Europe/London"), ("US", "America/New_York"),
         ("PL", "Europe/Warsaw"), ("AR", "America/Argentina/Buenos_Aires")]


def generate(path: Path, bad_last: bool = False) -> None:
    rng = random.Random(7)
    venues = [(f"Hall {i} — Saal", f"Stadt {i % 300}", *ZONES[i % len(ZONES)]) for i in range(N_VENUES)]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(HEADER)
        for i in range(N_SHOWS):
            name, city, country, tz = venues[i % N_VENUES]
            day = dt.date(2027, 1, 1) + dt.timedelta(days=i // N_VENUES * 3 + i % 3)
            writer.writerow([day.isoformat(), city, country, name, f"Straße {i % 97}, {city}", 500 + i % 3000,
                             rng.choice(["confirmed", "hold", "cancelled"]), "14:00", "7:00 PM", "21:00",
                             rng.choice(["23:00", "00:30"]), tz, f"promo{i % 50}@example.com",
                             f"Note {i}, with a comma\nand a second line"])
        if bad_last:
            writer.writerow(["2027-02-30", "Köln", "DE", "Palladium", "", "", "maybe", "", "", "", "", "Europe/Berlin",
                             "", ""])


FAILURES: list[str] = []


def timed(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        FAILURES.append(f"{' '.join(args[2:5])} … failed after {elapsed:.1f} s: {result.stderr.strip()[-300:]}")
        return float("nan")
    return elapsed


def written(conn) -> tuple[int, int]:
    time.sleep(1.2)  # backends flush their table statistics at most once a second
    conn.execute("select pg_stat_clear_snapshot()")
    return conn.execute("select sum(n_tup_ins), sum(n_tup_upd) from pg_stat_user_tables "
                        "where relname in ('shows', 'venues') and schemaname = 'public'").fetchone()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per validation measurement")
    parser.add_argument("--validation-only", action="store_true", help="figure 3 only (no local stack)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oi") as tmp:
        tmp_path = Path(tmp)
        validation(tmp_path, args.runs)
        if args.validation_only:
            return
        stack = LocalStack(tmp_path / "home")
        info, _ = stack.start(port=0, db_port=0)
        try:
            run(info, tmp_path, stack.cluster.admin_conninfo())
        finally:
            stack.stop()


def run(info, tmp: Path, admin_conninfo: str) -> None:
    headers = {"apikey": info.anon_key}
    session = httpx.post(f"{info.api_url}/auth/v1/signup", headers=headers,
                         json={"email": "bench@example.com", "password": "bench password 1"}).json()
    token = session["access_token"]
    auth = {**headers, "Authorization": f"Bearer {token}"}
    orgs = [httpx.post(f"{info.api_url}/rest/v1/rpc/create_organization", headers=auth,
                       json={"name": f"Bench {n}", "slug": f"bench-{n}"}).json()["id"] for n in ("api", "db")]
    env = {**os.environ, "ONCORE_HOME": str(tmp / "cli"), "ONCORE_URL": info.api_url, "ONCORE_ANON_KEY": info.anon_key,
           "ONCORE_ACCESS_TOKEN": token, "NO_COLOR": "1"}
    # The figure is throughput, not the limit: this throwaway stack lifts the API role's statement timeout (8 s, as
    # on hosted Supabase) so that a loaded machine still finishes; the output says so.
    with psycopg.connect(admin_conninfo, autocommit=True) as admin:
        admin.execute("alter role authenticated set statement_timeout = '120s'")
        admin.execute("notify pgrst, 'reload schema'")
    time.sleep(1)
    file = tmp / "tour.csv"
    generate(file)
    plan = read_plan("shows", str(file), "csv")
    body = len(payload(orgs[0], plan.rows, False))
    cli = [sys.executable, "-m", "oncore_cli", "import", "shows", str(file)]

    api = timed([*cli, "--org", "bench-api"], env)
    conn = psycopg.connect(info.db_url, autocommit=True)
    before = written(conn)
    again = timed([*cli, "--org", "bench-api"], env)
    after = written(conn)
    direct = timed([*cli, "--org", "bench-db", "--db-url", info.db_url], env)

    # The anchor: the same rows (other external refs) into the same table with psql's \copy.
    columns = "org_id,external_ref,venue_id,date,status,load_in_at,doors_at,set_time_at,curfew_at,capacity," \
              "promoter_email,notes"
    rows = tmp / "rows.csv"
    with rows.open("wb") as f, conn.cursor().copy(
            f"copy (select {columns.replace('external_ref', 'external_ref || $$-copy$$')} from shows "
            f"where org_id = '{orgs[0]}') to stdout with (format csv)") as copy:
        for chunk in copy:
            f.write(chunk)
    copy_time = timed(["psql", info.db_url, "-v", "ON_ERROR_STOP=1", "-c",
                       f"\\copy public.shows ({columns}) from '{rows}' with (format csv)"], env)
    counts = conn.execute("select org_id, count(*) from shows group by 1").fetchall()

    bad_cli = subprocess.run([*cli[:-1], str(tmp / "bad.csv"), "--org", "bench-api"], env=env, capture_output=True,
                             text=True)
    assert bad_cli.returncode == 2, bad_cli.stderr

    print(f"oncore import: {N_SHOWS} shows over {N_VENUES} venues; request body {body / 1024 / 1024:.1f} MB "
          f"(limit 10 MB); rows per org {dict((str(o)[:8], c) for o, c in counts)}")
    print("  (this stack's authenticated statement_timeout raised from 8 s to 120 s for the measurement)")
    print(f"  psql \\copy of the same rows (anchor):      {copy_time:6.2f} s")
    print(f"  import through the API:                   {api:6.2f} s   {api / copy_time:5.1f}x \\copy (goal <= 8x)")
    print(f"  import through --db-url (COPY + RPC):     {direct:6.2f} s   {direct / copy_time:5.1f}x \\copy (goal <= 3x)")
    print(f"  re-import, unchanged:                     {again:6.2f} s   {again / copy_time:5.1f}x \\copy (goal <= 10x)"
          f"; rows written: {after[0] - before[0]} inserted, {after[1] - before[1]} updated (goal 0)")
    print(f"  the bad file through the CLI: exit {bad_cli.returncode}, nothing written")
    for failure in FAILURES:
        print(f"  FAILED: {failure}")
    print("reproduce: python bench/bench_import.py")


FRESH = {
    "list": "import csv, time\nstart = time.perf_counter()\n"
            "with open(PATH, newline='', encoding='utf-8') as f:\n    rows = list(csv.reader(f))\n",
    "count": "import csv, time\nstart = time.perf_counter()\n"
             "with open(PATH, newline='', encoding='utf-8') as f:\n    rows = sum(1 for _ in csv.reader(f))\n",
    "validate": "import time\nfrom oncore_cli.services.imports import read_plan\nstart = time.perf_counter()\n"
                "plan = read_plan('shows', PATH, 'csv')\nassert plan.problems and not plan.rows\n",
}


def validation(tmp: Path, runs: int) -> None:
    """Figure 3, each measurement in a fresh interpreter."""
    bad = tmp / "bad.csv"
    generate(bad, bad_last=True)
    root = str(Path(__file__).resolve().parent.parent)
    times: dict[str, list[float]] = {name: [] for name in FRESH}
    for _ in range(runs):
        for name, code in FRESH.items():
            out = subprocess.run([sys.executable, "-c", f"PATH = {str(bad)!r}\n{code}"
                                  "print(time.perf_counter() - start)"], capture_output=True, text=True, check=True,
                                 env={**os.environ, "PYTHONPATH": root})
            times[name].append(float(out.stdout))
    median = {name: statistics.median(values) * 1000 for name, values in times.items()}
    best = {name: min(values) * 1000 for name, values in times.items()}
    print(f"validation of {N_SHOWS} rows, one bad row at the end (nothing written); {runs} fresh interpreters "
          "each, median (fastest):")
    print(f"  csv module, file parsed into rows (anchor): {median['list']:6.1f} ms ({best['list']:5.1f})")
    print(f"  csv module, rows counted, none kept:        {median['count']:6.1f} ms ({best['count']:5.1f})")
    print(f"  oncore's validation (read_plan):            {median['validate']:6.1f} ms ({best['validate']:5.1f})   "
          f"{median['validate'] / median['list']:4.2f}x the anchor ({best['validate'] / best['list']:4.2f}x) "
          f"(goal <= 2x); {median['validate'] / median['count']:4.2f}x counting "
          f"({best['validate'] / best['count']:4.2f}x)")


if __name__ == "__main__":
    main()
