"""oncore import shows|venues with files made the way tour managers make them, against the local stack."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from tests.cli.conftest import one_line_error

HEADER = "date,city,country,venue_name,venue_address,capacity,status,load_in,doors,set_time,curfew,timezone," \
         "promoter_email,notes"

# An Excel "CSV UTF-8" export: BOM, CRLF, a trailing empty column, title-case headers, quoted commas, doubled
# quotes, a note over three lines, accents, 12-hour times, an empty row at the end.
EXCEL = (
    "\ufeffDate,City,Country,Venue Name,Venue Address,Capacity,Status,Load-In,Doors,Set Time,Curfew,Timezone,"
    "Promoter Email,Notes,\r\n"
    "2027-03-14,Köln,DE,Palladium,\"Schanzenstraße 40, 51063 Köln\",4000,Confirmed,14:00,7:00 PM,9:00 PM,1:00 AM,"
    "Europe/Berlin,booking@prime-entertainment.de,\"Load-in via the ramp, not the yard\r\n"
    "Catering: \"\"vegan\"\" for 4\r\nParking: 2 nightliners\",\r\n"
    "2027-03-15,Zürich,CH,Volkshaus,\"Stauffacherstrasse 60\",1600,hold,,19:30,21:15,23:30,Europe/Zurich,,,\r\n"
    "2027-03-17,Łódź,PL,Klub Wytwórnia,,1400,CANCELLED,15:00,20:00,21:30,00:30,Europe/Warsaw,,"
    "\"L'après-show: Café Zażółć\",\r\n"
    ",,,,,,,,,,,,,,\r\n"
)


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def shows_in_db(db_url: str, org_id: str) -> list[dict]:
    with psycopg.connect(db_url) as conn:
        cur = conn.execute(
            "select s.date::text, s.status::text, s.load_in_at, s.doors_at, s.set_time_at, s.curfew_at, s.notes, "
            "s.capacity, s.promoter_email, s.external_ref, v.name, v.city, v.country, v.timezone, v.address "
            "from shows s left join venues v on v.id = s.venue_id where s.org_id = %s order by s.date, v.name",
            (org_id,))
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def counts(db_url: str, org_id: str) -> tuple[int, int]:
    with psycopg.connect(db_url) as conn:
        return conn.execute("select (select count(*) from shows where org_id = %s), "
                            "(select count(*) from venues where org_id = %s)", (org_id, org_id)).fetchone()


def local(value: dt.datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")


def test_excel_export_imports_exactly_then_changes_nothing(oncore, org, db_url, tmp_path):
    path = write(tmp_path / "Tour 2027.csv", EXCEL)
    first = oncore("import", "shows", path, "--json")
    assert first.exit_code == 0, first
    assert first.json["shows"] == {"created": 3, "updated": 0, "unchanged": 0}
    assert first.json["venues"] == {"created": 3, "updated": 0, "unchanged": 0}

    rows = shows_in_db(db_url, org["id"])
    assert [(r["date"], r["status"], r["name"], r["city"]) for r in rows] == [
        ("2027-03-14", "confirmed", "Palladium", "Köln"), ("2027-03-15", "hold", "Volkshaus", "Zürich"),
        ("2027-03-17", "cancelled", "Klub Wytwórnia", "Łódź")]
    palladium = rows[0]
    assert palladium["notes"] == 'Load-in via the ramp, not the yard\r\nCatering: "vegan" for 4\r\nParking: 2 nightliners'
    assert palladium["address"] == "Schanzenstraße 40, 51063 Köln" and palladium["capacity"] == 4000
    assert [local(palladium[f], "Europe/Berlin") for f in ("load_in_at", "doors_at", "set_time_at", "curfew_at")] == [
        "2027-03-14 14:00", "2027-03-14 19:00", "2027-03-14 21:00", "2027-03-15 01:00"]
    assert rows[2]["notes"] == "L'après-show: Café Zażółć"
    assert local(rows[2]["curfew_at"], "Europe/Warsaw") == "2027-03-18 00:30"  # after midnight: the next day
    assert rows[1]["load_in_at"] is None

    again = oncore("import", "shows", path)
    assert again.exit_code == 0, again
    assert "shows 0 created, 0 updated, 3 unchanged" in again.stderr
    assert shows_in_db(db_url, org["id"]) == rows

    listed = oncore("shows", "list", "--json").json
    assert [s["venue_name"] for s in listed] == ["Palladium", "Volkshaus", "Klub Wytwórnia"]


def test_changed_row_updates_and_dry_run_writes_nothing(oncore, org, db_url, tmp_path):
    path = write(tmp_path / "tour.csv", EXCEL)
    assert oncore("import", "shows", path).exit_code == 0
    before = shows_in_db(db_url, org["id"])
    changed = write(tmp_path / "tour2.csv", EXCEL.replace("2027-03-15,Zürich,CH,Volkshaus,\"Stauffacherstrasse 60\","
                                                          "1600,hold", "2027-03-15,Zürich,CH,Volkshaus,"
                                                          "\"Stauffacherstrasse 60\",1600,confirmed")
                    + "2027-03-20,Paris,FR,Le Trianon,,1000,hold,,19:00,,,Europe/Paris,,,\r\n")
    dry = oncore("import", "shows", changed, "--dry-run", "--json")
    assert dry.exit_code == 0, dry
    assert dry.json["shows"] == {"created": 1, "updated": 1, "unchanged": 2} and dry.json["dry_run"] is True
    assert [(c["line"], c["action"]) for c in dry.json["changes"]] == [(5, "updated"), (8, "created")]
    assert shows_in_db(db_url, org["id"]) == before  # nothing written
    real = oncore("import", "shows", changed, "--json")
    assert real.json["shows"] == {"created": 1, "updated": 1, "unchanged": 2}
    after = shows_in_db(db_url, org["id"])
    assert len(after) == 4 and after[1]["status"] == "confirmed"
    with psycopg.connect(db_url) as conn:  # one entry per written row, as the triggers write them
        log = conn.execute("select action, entity, actor_kind, changes from activity_log where org_id = %s "
                           "and entity in ('shows', 'venues') order by id", (org["id"],)).fetchall()
    assert [(a, e, k) for a, e, k, _ in log].count(("import_shows", "shows", "member")) == 5
    assert [(a, e) for a, e, _, _ in log].count(("import_shows", "venues")) == 4
    assert log[-2][3] == {"status": {"old": "hold", "new": "confirmed"}}
    assert log[-1][3]["date"] == {"old": None, "new": "2027-03-20"}


def test_bad_rows_are_all_reported_by_physical_line_and_nothing_is_written(oncore, org, db_url, tmp_path):
    text = (
        HEADER + "\n"
        "2027-04-01,Berlin,DE,Lido,,800,confirmed,,19:00,,23:00,Europe/Berlin,,\"two\nlines\"\n"  # lines 2-3: good
        "2027-04-02,Berlin,DE,Lido,,-5,maybe,,25:00,,,Europe/Berlin,not-an-email,\n"                # line 4
        "2027-04-31,Hamburg,Germany,Docks,,,hold,,,,,CET,,\n"                                       # line 5
        ",Berlin,DE,,,,hold,,,,,Mars/Olympus,,\n"                                                   # line 6
        "2027-04-01,Berlin,DE,Lido,,,hold,,,,,Europe/Berlin,,\n"                                   # line 7: duplicate
        "2027-03-27,Berlin,DE,SO36,,,confirmed,,22:00,23:00,02:30,Europe/Berlin,,\n"               # line 8: DST gap
        "2027-10-30,Berlin,DE,SO36,,,confirmed,,22:00,23:00,02:30,Europe/Berlin,,\n"               # line 9: twice
    )
    result = oncore("import", "shows", write(tmp_path / "bad.csv", text))
    assert result.exit_code == 2, result
    lines = result.stderr.strip().splitlines()
    assert lines[-1] == f"oncore: {tmp_path / 'bad.csv'}: 13 problems, nothing imported"
    body = "\n".join(lines)
    src = str(tmp_path / "bad.csv")
    for expected in (
        f"{src}:4: capacity: '-5' is not a positive whole number",
        f"{src}:4: status: 'maybe' is not a status: use confirmed, hold or cancelled",
        f"{src}:4: doors: '25:00' is not a time of day",
        f"{src}:4: promoter_email: 'not-an-email' is not an e-mail address",
        f"{src}:5: date: '2027-04-31' is not a date",
        f"{src}:5: country: 'Germany' is not an ISO 3166 alpha-2 country code",
        f"{src}:5: timezone: 'CET' is an abbreviation",
        f"{src}:6: date: required",
        f"{src}:6: venue_name: required",
        f"{src}:6: timezone: 'Mars/Olympus' is not an IANA time zone",
        f"{src}:7: the same show as line 2",
        f"{src}:8: curfew: 02:30 does not exist on 2027-03-28 in Europe/Berlin",
        f"{src}:9: curfew: 02:30 happens twice on 2027-10-31 in Europe/Berlin",
    ):
        assert expected in body, (expected, body)
    assert result.stdout == ""
    assert counts(db_url, org["id"]) == (0, 0)


def test_daylight_saving_night(oncore, org, db_url, tmp_path):
    # Clocks go forward in Berlin at 02:00 on 2027-03-28 and back at 03:00 on 2027-10-31.
    text = (HEADER + "\n"
            "2027-03-27,Berlin,DE,SO36,,,confirmed,18:00,20:00,22:30,01:30,Europe/Berlin,,\n"
            "2027-03-28,Berlin,DE,SO36,,,confirmed,,19:00,,23:00,Europe/Berlin,,\n"
            "2027-10-30,Berlin,DE,SO36,,,confirmed,,20:00,23:00,01:30,Europe/Berlin,,\n"
            "2027-10-31,Berlin,DE,SO36,,,confirmed,,19:00,,,Europe/Berlin,,\n")
    assert oncore("import", "shows", write(tmp_path / "dst.csv", text)).exit_code == 0
    rows = shows_in_db(db_url, org["id"])
    assert rows[0]["curfew_at"].astimezone(dt.timezone.utc).isoformat() == "2027-03-28T00:30:00+00:00"  # still CET
    assert rows[1]["doors_at"].astimezone(dt.timezone.utc).isoformat() == "2027-03-28T17:00:00+00:00"  # CEST now
    assert local(rows[2]["curfew_at"], "Europe/Berlin") == "2027-10-31 01:30"
    assert rows[3]["doors_at"].astimezone(dt.timezone.utc).isoformat() == "2027-10-31T18:00:00+00:00"  # CET again
    assert rows[0]["curfew_at"] - rows[0]["set_time_at"] == dt.timedelta(hours=3)


def test_us_dates_aliases_map_json_and_ndjson(oncore, org, db_url, tmp_path):
    us = ("Show Date,Venue,Town,Country,Status,Doors Time,Curfew Time,TZ,Agent\n"
          "3/14/2027,The Fillmore,San Francisco,us,confirmed,7:30 PM,11:00 PM,America/Los_Angeles,CAA\n"
          "03/16/2027,9:30 Club,Washington,US,hold,7 PM,12:30 AM,America/New_York,WME\n")
    unknown = oncore("import", "shows", write(tmp_path / "us.csv", us))
    one = [line for line in unknown.stderr.splitlines() if ":1: Agent: unknown column" in line]
    assert unknown.exit_code == 2 and one, unknown
    result = oncore("import", "shows", tmp_path / "us.csv", "--map", "Agent=", "--json")
    assert result.exit_code == 0, result
    rows = shows_in_db(db_url, org["id"])
    assert [(r["date"], r["name"], r["country"]) for r in rows] == [
        ("2027-03-14", "The Fillmore", "US"), ("2027-03-16", "9:30 Club", "US")]
    assert local(rows[0]["doors_at"], "America/Los_Angeles") == "2027-03-14 19:30"  # first day of PDT
    assert local(rows[1]["curfew_at"], "America/New_York") == "2027-03-17 00:30"

    eu = "Tag,Venue,City,Country,Status,TZ\n14/03/2027,Tivoli,Utrecht,NL,hold,Europe/Amsterdam\n"
    result = oncore("import", "shows", write(tmp_path / "eu.csv", eu), "--map", "Tag=date", "--date-format", "eu")
    assert result.exit_code == 0, result

    records = [{"date": "2027-05-01", "city": "Wien", "country": "AT", "venue_name": "Arena", "status": "hold",
                "timezone": "Europe/Vienna", "capacity": 3000, "notes": None},
               {"date": "2027-05-02", "city": "Graz", "country": "AT", "venue_name": "PPC", "status": "confirmed",
                "timezone": "Europe/Vienna", "doors": "19:00"}]
    arr = oncore("import", "shows", write(tmp_path / "t.json", json.dumps(records, indent=2)), "--json")
    assert arr.json["shows"]["created"] == 2, arr
    nd = "\n".join(json.dumps(r) for r in records) + "\n"
    again = oncore("import", "shows", "-", "--format", "ndjson", "--json", input=nd)
    assert again.json["shows"] == {"created": 0, "updated": 0, "unchanged": 2}, again
    bad = [dict(records[0], capacity="lots"), records[1]]
    where = oncore("import", "shows", write(tmp_path / "bad.json", json.dumps(bad, indent=2)))
    assert f"{tmp_path / 'bad.json'}:2: capacity: 'lots' is not a positive whole number" in where.stderr, where
    assert counts(db_url, org["id"])[0] == 5


def test_venues_import_matches_existing_by_name_and_city(oncore, org, venue, db_url, tmp_path):
    text = ("name,city,country,timezone,capacity,address\n"
            f"{venue['name'].upper()},berlin,DE,Europe/Berlin,3600,Columbiadamm 13-21\n"
            "Huxleys,Berlin,DE,Europe/Berlin,1600,\n")
    result = oncore("import", "venues", write(tmp_path / "v.csv", text), "--json")
    assert result.exit_code == 0, result
    assert result.json["venues"] == {"created": 1, "updated": 1, "unchanged": 0}
    again = oncore("import", "venues", tmp_path / "v.csv", "--json")
    assert again.json["venues"] == {"created": 0, "updated": 0, "unchanged": 2}
    listed = {v["name"]: v for v in oncore("venues", "list", "--json").json}
    assert listed[venue["name"]]["capacity"] == 3600 and listed[venue["name"]]["address"] == "Columbiadamm 13-21"
    assert len(listed) == 2


def test_errors_are_one_line(oncore, org, tmp_path):
    one_line_error(oncore("import", "shows", tmp_path / "nope.csv"), 2, "cannot read")
    one_line_error(oncore("import", "shows", write(tmp_path / "x.xlsx", "")), 2, "--format csv")
    one_line_error(oncore("import", "shows", write(tmp_path / "empty.csv", HEADER + "\n")), 2, "no shows")
    latin = tmp_path / "latin.csv"
    latin.write_bytes((HEADER + "\n2027-01-01,Köln").encode("latin-1"))
    one_line_error(oncore("import", "shows", latin), 2, "latin.csv:2: not UTF-8")
    one_line_error(oncore("import", "shows", write(tmp_path / "a.csv", "x"), "--map", "nonsense"), 2, "--map")


def test_viewer_cannot_import(oncore, org, make_user, login, tmp_path, unique):
    viewer = make_user("viewer")
    assert oncore("members", "add", viewer.email, "--role", "viewer").exit_code == 0
    login(viewer)
    assert oncore("orgs", "accept", org["slug"]).exit_code == 0
    result = oncore("import", "shows", write(tmp_path / "t.csv", EXCEL), "--org", org["slug"])
    one_line_error(result, 4, "member")


def test_kill_9_leaves_nothing_or_everything(oncore, keyring_file, org, db_url, tmp_path):
    """The importing process killed (kill -9) or interrupted (Ctrl-C) at random moments: the database holds none or
    all of the file's rows; a re-run then ends with exactly the file's rows."""
    n = 1500
    lines = [HEADER] + [f"{(dt.date(2028, 1, 1) + dt.timedelta(days=i)).isoformat()},City {i % 40},DE,"
                        f"Hall {i % 40},,{500 + i},confirmed,,19:00,21:00,23:00,Europe/Berlin,,note {i}"
                        for i in range(n)]
    path = write(tmp_path / "big.csv", "\n".join(lines) + "\n")
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
           "XDG_DATA_HOME": str(keyring_file.parent.parent / "xdg")}
    rng = random.Random(13)
    seen = set()
    for sig in (signal.SIGKILL, signal.SIGINT, signal.SIGKILL, signal.SIGINT, signal.SIGKILL):  # kill -9, Ctrl-C
        proc = subprocess.Popen([sys.executable, "-m", "oncore_cli", "import", "shows", str(path)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 2.5))
        proc.send_signal(sig)
        proc.wait()
        shows, _ = counts(db_url, org["id"])
        assert shows in (0, n)
        seen.add(shows)
    final = oncore("import", "shows", path, "--json")
    assert final.exit_code == 0, final
    assert counts(db_url, org["id"]) == (n, 40)
    again = oncore("import", "shows", path, "--json")
    assert again.json["shows"] == {"created": 0, "updated": 0, "unchanged": n}


def test_db_url_fast_path_and_batches_agree_with_the_api(oncore, org, db_url, tmp_path, monkeypatch):
    path = write(tmp_path / "tour.csv", EXCEL)
    direct = oncore("import", "shows", path, "--db-url", db_url, "--org", org["slug"], "--json")
    assert direct.exit_code == 0, direct
    assert direct.json["shows"] == {"created": 3, "updated": 0, "unchanged": 0}
    via_db = shows_in_db(db_url, org["id"])
    via_api = oncore("import", "shows", path, "--json")
    assert via_api.json["shows"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert shows_in_db(db_url, org["id"]) == via_db
    with psycopg.connect(db_url) as conn:
        actions = conn.execute("select action, actor_kind, count(*) from activity_log where org_id = %s "
                               "and entity = 'shows' group by 1, 2", (org["id"],)).fetchall()
    assert actions == [("import_shows", "service", 3)]

    batched = oncore("import", "shows", path, "--batch-size", "2", "--json")
    assert batched.json["shows"] == {"created": 0, "updated": 0, "unchanged": 3}, batched
    # A file over the request limit is refused before anything is sent, with the way out named.
    monkeypatch.setattr("oncore_cli.services.imports.MAX_BODY", 1500)
    refused = oncore("import", "shows", path)
    one_line_error(refused, 2, "over the API's", "--batch-size", "--db-url")


def test_the_gateway_refuses_a_body_over_10_mb(oncore, org, stack, tmp_path):
    """What the client guards against: the API answers 413, and the CLI names the way out."""
    from oncore_cli.core.context import App
    from oncore_cli.services.imports import ImportService, Plan

    app = App()
    plan = Plan("shows", "big", rows=[{"external_ref": f"r{i}", "notes": "x" * 1000} for i in range(11_000)])
    import oncore_cli.services.imports as imports

    service = ImportService(app.api, org["id"])
    old, imports.MAX_BODY = imports.MAX_BODY, 10 ** 9
    try:
        with pytest.raises(Exception) as caught:
            service.send(plan)
    finally:
        imports.MAX_BODY = old
    from oncore_cli.core.errors import describe

    message, code = describe(caught.value)
    assert code == 2 and "over the API's limit" in message and "--batch-size" in message, message


def test_on_a_terminal_the_progress_bar_leaves_the_problems_readable(oncore, org, tmp_path):
    text = HEADER + "\n" + "2027-04-02,Berlin,DE,Lido,,,maybe,,,,,Europe/Berlin,,\n"
    result = oncore("import", "shows", write(tmp_path / "bad.csv", text), tty=True)
    assert result.exit_code == 2
    assert f"{tmp_path / 'bad.csv'}:2: status: 'maybe' is not a status" in result.stderr, result
    assert result.stderr.rstrip().endswith("1 problem, nothing imported")


def test_a_statement_timeout_names_the_way_out_and_writes_nothing(oncore, org, stack, db_url, admin_db_url, unique,
                                                                   tmp_path):
    """Hosted Supabase stops an authenticated statement after 8 s; a file too big for one transaction there gets
    the CLI's way out (batches or --db-url), and the database keeps nothing of it. Here with a 300 ms limit."""
    import httpx

    n = 3000
    lines = [HEADER] + [f"{(dt.date(2029, 1, 1) + dt.timedelta(days=i)).isoformat()},City {i % 60},DE,"
                        f"Hall {i % 60},,{500 + i},confirmed,,19:00,21:00,23:00,Europe/Berlin,,note {i}"
                        for i in range(n)]
    path = write(tmp_path / "long.csv", "\n".join(lines) + "\n")
    probe = f"timeout_probe_{unique}"
    with psycopg.connect(admin_db_url, autocommit=True) as conn:
        conn.execute(f"create function public.{probe}() returns text language sql stable set search_path = '' "
                     "as $$ select current_setting('statement_timeout') $$")
        conn.execute("alter role authenticated set statement_timeout = '300ms'")
        conn.execute("notify pgrst, 'reload schema'")
    token = oncore("auth", "token").stdout.strip()
    headers = {"apikey": stack.anon_key, "Authorization": f"Bearer {token}"}

    def wait_for(limit: str) -> None:  # the gateway reloads role settings with its schema cache
        for _ in range(100):
            if httpx.post(f"{stack.api_url}/rest/v1/rpc/{probe}", headers=headers).json() == limit:
                return
            time.sleep(0.1)
        raise AssertionError(f"the gateway never applied statement_timeout {limit}")

    try:
        wait_for("300ms")
        result = oncore("import", "shows", path)
        one_line_error(result, 1, "statement timeout", f"{n} rows in one transaction", "nothing was written",
                       "--batch-size", "--db-url")
        assert counts(db_url, org["id"]) == (0, 0)
    finally:
        with psycopg.connect(admin_db_url, autocommit=True) as conn:
            conn.execute("alter role authenticated set statement_timeout = '8s'")
            conn.execute("notify pgrst, 'reload schema'")
        wait_for("8s")
        with psycopg.connect(admin_db_url, autocommit=True) as conn:
            conn.execute(f"drop function public.{probe}()")
            conn.execute("notify pgrst, 'reload schema'")
