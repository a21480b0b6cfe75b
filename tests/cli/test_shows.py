"""shows list|create|show|update|delete|export, times local to the venue."""

from __future__ import annotations

import csv
import io
import json

from tests.cli.conftest import one_line_error


def _create(oncore, *args):
    result = oncore("shows", "create", *args, "--json")
    assert result.exit_code == 0, result
    return result.json


def test_create_converts_local_times_and_rolls_curfew_past_midnight(oncore, venue):
    show = _create(oncore, "--date", "2026-05-01", "--venue", venue["name"], "--status", "confirmed",
                   "--load-in", "14:00", "--doors", "19:30", "--set-time", "21:00", "--curfew", "01:00")
    # Berlin is UTC+2 in May; the curfew is 01:00 on the next morning.
    assert show["load_in_at"] == "2026-05-01T12:00:00Z"
    assert show["doors_at"] == "2026-05-01T17:30:00Z"
    assert show["curfew_at"] == "2026-05-01T23:00:00Z"
    assert show["date"] == "2026-05-01" and show["venue_name"] == venue["name"]
    assert show["timezone"] == "Europe/Berlin"
    shown = oncore("shows", "show", show["id"][:8])
    assert "Doors\t19:30\n" in shown.stdout and "Curfew\t01:00+1\n" in shown.stdout  # next morning


def test_list_filters_and_formats(oncore, venue, org, unique):
    other = oncore("venues", "create", f"Other {unique}", "--timezone", "America/New_York", "--json").json
    _create(oncore, "--date", "2026-06-01", "--venue", venue["id"], "--status", "confirmed", "--doors", "20:00")
    _create(oncore, "--date", "2026-06-03", "--venue", other["id"], "--doors", "19:00", "--title", "Tab\there")
    _create(oncore, "--date", "2026-06-05", "--venue", venue["id"], "--status", "cancelled")

    everything = oncore("shows", "list", "--json").json
    assert [s["date"] for s in everything] == ["2026-06-01", "2026-06-03", "2026-06-05"]
    assert set(everything[0]) >= {"id", "date", "status", "venue_id", "doors_at", "curfew_at", "venue_name", "timezone"}
    assert [s["date"] for s in oncore("shows", "list", "--from", "2026-06-02", "--json").json] == ["2026-06-03", "2026-06-05"]
    assert [s["date"] for s in oncore("shows", "list", "--to", "2026-06-03", "--json").json] == ["2026-06-01", "2026-06-03"]
    assert [s["date"] for s in oncore("shows", "list", "--status", "cancelled", "--json").json] == ["2026-06-05"]
    assert [s["date"] for s in oncore("shows", "list", "--venue", other["name"], "--json").json] == ["2026-06-03"]
    assert len(oncore("shows", "list", "--limit", "2", "--json").json) == 2

    piped = oncore("shows", "list").stdout.splitlines()
    assert piped[0].split("\t")[:6] == ["2026-06-01", "confirmed", venue["name"], "Berlin", "20:00", ""]
    assert piped[1].split("\t")[4] == "19:00"  # New York local time
    assert "Tab here" in piped[1]  # a tab inside data cannot break the columns
    table = oncore("shows", "list", tty=True).stdout
    assert "DATE" in table and "DOORS" in table and "2026-06-03" in table
    rows = list(csv.DictReader(io.StringIO(oncore("shows", "list", "--format", "csv").stdout)))
    assert rows[1]["doors_at"] == "2026-06-03T23:00:00Z" and rows[1]["timezone"] == "America/New_York"
    ndjson = [json.loads(line) for line in oncore("shows", "list", "-o", "ndjson").stdout.splitlines()]
    assert [s["date"] for s in ndjson] == ["2026-06-01", "2026-06-03", "2026-06-05"]


def test_update_and_delete(oncore, venue):
    show = _create(oncore, "--date", "2026-07-01", "--venue", venue["id"], "--doors", "19:00")
    updated = oncore("shows", "update", show["id"], "--status", "confirmed", "--curfew", "00:30", "--json")
    assert updated.exit_code == 0, updated
    assert updated.json["status"] == "confirmed" and updated.json["curfew_at"] == "2026-07-01T22:30:00Z"
    moved = oncore("shows", "update", "2026-07-01", "--date", "2026-07-02", "--json").json
    assert moved["date"] == "2026-07-02"
    assert moved["doors_at"] == "2026-07-02T17:00:00Z" and moved["curfew_at"] == "2026-07-02T22:30:00Z"
    cleared = oncore("shows", "update", show["id"][:8], "--curfew", "", "--json").json
    assert cleared["curfew_at"] is None and cleared["doors_at"] == "2026-07-02T17:00:00Z"
    one_line_error(oncore("shows", "delete", show["id"]), 2, "--yes")
    assert oncore("shows", "delete", show["id"], "--yes").exit_code == 0
    one_line_error(oncore("shows", "show", show["id"]), 3, "not found")


def test_show_bad_input(oncore, venue):
    one_line_error(oncore("shows", "create", "--date", "2026-13-01", "--venue", venue["id"]), 2, "bad date '2026-13-01'")
    one_line_error(oncore("shows", "create", "--date", "2026-05-01", "--venue", "no-such-venue"), 3, "venue 'no-such-venue' not found")
    one_line_error(oncore("shows", "create", "--date", "2026-05-01", "--doors", "7pm"), 2, "bad time '7pm' for --doors")
    one_line_error(oncore("shows", "create", "--date", "2026-05-01", "--status", "maybe"), 2, "unknown status 'maybe'")
    one_line_error(oncore("shows", "create", "--date", "2026-05-01", "--currency", "euro"), 2, "currency")
    one_line_error(oncore("shows", "list", "--from", "tomorrowish"), 2, "bad --from date")
    one_line_error(oncore("shows", "list", "--from", "2026-05-02", "--to", "2026-05-01"), 2, "--to is before --from")
    one_line_error(oncore("shows", "show", "0000000"), 3, "show '0000000' not found")
    assert oncore("shows", "list", "--json").json == []  # nothing half-written


def test_ambiguous_show_date(oncore, venue):
    _create(oncore, "--date", "2026-08-01", "--venue", venue["id"], "--title", "Matinee")
    _create(oncore, "--date", "2026-08-01", "--venue", venue["id"], "--title", "Evening")
    result = oncore("shows", "show", "2026-08-01")
    one_line_error(result, 2, "ambiguous", "Matinee", "Evening")


def test_export_csv_json_ics(oncore, venue, org, tmp_path):
    _create(oncore, "--date", "2026-09-01", "--venue", venue["id"], "--status", "confirmed", "--doors", "19:00",
            "--curfew", "23:00", "--title", "Tour opener; hometown, baby", "--notes", "Long notes " * 12)
    _create(oncore, "--date", "2026-09-02", "--venue", venue["id"])  # no times: an all-day hold

    as_json = oncore("shows", "export", "--format", "json")
    assert [s["date"] for s in json.loads(as_json.stdout)] == ["2026-09-01", "2026-09-02"]
    as_csv = list(csv.DictReader(io.StringIO(oncore("shows", "export", "--format", "csv").stdout)))
    assert as_csv[0]["title"] == "Tour opener; hometown, baby" and as_csv[0]["doors_at"] == "2026-09-01T17:00:00Z"

    target = tmp_path / "tour.ics"
    written = oncore("shows", "export", "--format", "ics", "-O", str(target))
    assert written.exit_code == 0 and "Wrote 2 show(s)" in written.stderr and written.stdout == ""
    data = target.read_bytes()
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    unfolded = data.decode().replace("\r\n ", "")
    assert unfolded.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20260901T170000Z" in unfolded and "DTEND:20260901T210000Z" in unfolded
    assert "DTSTART;VALUE=DATE:20260902" in unfolded and "DTEND;VALUE=DATE:20260903" in unfolded
    assert "SUMMARY:Tour opener\\; hometown\\, baby" in unfolded
    assert "DESCRIPTION:Doors 19:00\\, Curfew 23:00 (Europe/Berlin)\\nStatus: confirmed" in unfolded
    assert unfolded.count("UID:") == 2 and unfolded.count("DTSTAMP:") == 2
    one_line_error(oncore("shows", "export", "--format", "xml"), 2, "unknown export format")
