"""Reading and validating import files: physical line numbers, spreadsheet quirks, clock times, local instants."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from oncore_cli.services import times
from oncore_cli.services.import_file import normalise, read_table
from oncore_cli.services.imports import SHOW_ALIASES, SHOW_FIELDS, read_plan


def table(text: str, fmt: str = "csv"):
    return read_table("t", fmt, SHOW_FIELDS, SHOW_ALIASES, {}, text)


def test_headers_normalise_and_alias():
    assert [normalise(h) for h in (" Venue Name ", "Load-In", "SET  TIME", "promoter-e-mail")] == [
        "venue_name", "load_in", "set_time", "promoter_e_mail"]
    t = table("Show Date,Venue,Doors Time,TZ,\n2027-01-01,X,19:00,Europe/Berlin,\n")
    assert t.records == [(2, {"date": "2027-01-01", "venue_name": "X", "doors": "19:00",
                              "timezone": "Europe/Berlin"})]
    assert not t.problems


def test_physical_lines_with_multiline_quotes_crlf_and_empty_rows():
    text = 'date,notes\r\n2027-01-01,"a\r\nb\r\nc"\r\n\r\n2027-01-02,"x ""y"", z"\r\n,\r\n,\r\n'
    t = table(text)
    assert [(line, r["notes"]) for line, r in t.records] == [(2, "a\r\nb\r\nc"), (6, 'x "y", z')]


def test_a_value_under_an_empty_header_or_beyond_the_header_is_a_problem():
    t = table("date,,city\n2027-01-01,oops,Berlin\n2027-01-02,,Köln,extra\n")
    assert [(p.line, p.column) for p in t.problems] == [(2, "column 2"), (3, "")]


def test_json_array_records_carry_their_starting_line():
    records = [{"date": "2027-01-01", "notes": "x"}, {"date": "2027-01-02", "capacity": 12, "notes": None}]
    t = table(json.dumps(records, indent=2), "json")
    assert [line for line, _ in t.records] == [2, 6]
    assert t.records[1][1] == {"date": "2027-01-02", "capacity": "12"}  # null: not given
    broken = table('[\n {"date": "2027-01-01"},\n {"date": \n', "json")
    assert broken.problems and broken.problems[0].line == 4
    nd = table('{"date": "2027-01-01"}\n\n{"date": oops}\n', "ndjson")
    assert [(p.line, p.message.split(":")[0]) for p in nd.problems] == [(3, "not JSON")]


@pytest.mark.parametrize("text,expected", [("19:30", "19:30"), ("7:30 PM", "19:30"), ("7pm", "19:00"),
                                           ("12:05 AM", "00:05"), ("12:00 pm", "12:00"), ("9:05 p.m.", "21:05"),
                                           ("19:30:00", "19:30"), ("0:15", "00:15")])
def test_clock(text, expected):
    assert times.clock(text) == expected


@pytest.mark.parametrize("text", ["24:00", "13:00 PM", "7:60", "noon", ""])
def test_clock_refuses(text):
    with pytest.raises(ValueError):
        times.clock(text)


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
                                "Asia/Kolkata"])
def test_local_instants_every_day_of_a_year(tz):
    """Each day either keeps every wall-clock time (after midnight: the next day) or says which time the zone skips
    or repeats."""
    given = {"load_in_at": "14:00", "doors_at": "19:30", "set_time_at": "22:45", "curfew_at": "01:15"}
    day = dt.date(2027, 1, 1)
    while day.year == 2027:
        try:
            instants = times.local_instants(day, tz, given)
        except ValueError as e:
            assert str(e).startswith("curfew_at: 01:15 ") and ("does not exist" in str(e) or "twice" in str(e)), e
        else:
            assert [times.local_hhmm(instants[f], tz, day).removesuffix(" UTC") for f in given] == [
                "14:00", "19:30", "22:45", "01:15+1"], day
        day += dt.timedelta(days=1)


def test_local_instants_name_the_field():
    with pytest.raises(ValueError, match=r"^curfew_at: 02:30 does not exist on 2027-03-28 in Europe/Berlin"):
        times.local_instants(dt.date(2027, 3, 27), "Europe/Berlin", {"set_time_at": "22:30", "curfew_at": "02:30"})
    with pytest.raises(ValueError, match=r"^curfew_at: 02:30 happens twice on 2027-10-31"):
        times.local_instants(dt.date(2027, 10, 30), "Europe/Berlin", {"set_time_at": "22:30", "curfew_at": "02:30"})


def test_dates_one_format_per_file_and_date_format():
    us = "date,city,country,venue_name,status,timezone\n3/14/2027,A,US,V,hold,America/Chicago\n" \
         "12/1/27,A,US,W,hold,America/Chicago\n2027-03-15,A,US,X,hold,America/Chicago\n"
    plan = read_plan("shows", "t.csv", "csv", data=us)
    assert [(p.line, p.column) for p in plan.problems] == [(4, "date")] and plan.rows == []
    plan = read_plan("shows", "t.csv", "csv", data=us.rsplit("2027-03-15", 1)[0])
    assert [r["date"] for r in plan.rows] == ["2027-03-14", "2027-12-01"] and not plan.problems
    eu = "date,city,country,venue_name,status,timezone\n14.03.2027,A,DE,V,hold,Europe/Berlin\n"
    plan = read_plan("shows", "t.csv", "csv", data=eu, date_format="%d.%m.%Y")
    assert plan.rows[0]["date"] == "2027-03-14" and not plan.problems


def test_missing_required_column_is_reported_once():
    plan = read_plan("shows", "t.csv", "csv", data="date,city\n2027-01-01,A\n2027-01-02,B\n")
    assert sorted(p.column for p in plan.problems) == ["country", "status", "timezone", "venue_name"]
    assert {p.line for p in plan.problems} == {1}


def test_conflicting_venue_details_and_nfc_text():
    decomposed = "Ko\u0308ln"  # "Köln" typed with a combining diaeresis (macOS does this)
    text = ("date,city,country,venue_name,status,timezone,notes\n"
            f"2027-01-01,{decomposed},DE,Palladium,hold,Europe/Berlin,Caf\u0065\u0301\n"
            "2027-01-02,Köln,DE,Palladium,hold,Europe/Paris,\n")
    plan = read_plan("shows", "t.csv", "csv", data=text)
    assert [(p.line, p.column) for p in plan.problems] == [(3, "timezone")] and plan.rows == []
    plan = read_plan("shows", "t.csv", "csv", data=text.replace("Europe/Paris", "Europe/Berlin"))
    assert plan.rows[0]["venue"]["city"] == "Köln" and plan.rows[0]["notes"] == "Café"
    assert plan.rows[0]["venue"]["external_ref"] == plan.rows[1]["venue"]["external_ref"] == "palladium|köln"


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/Santiago", "Australia/Lord_Howe", "Asia/Tokyo"])
def test_local_instants_fast_path_gives_parse_local_times_answers(tz):
    """The arithmetic used on days without an offset change answers exactly as parse_local_times (lone small-hours
    times, after-midnight rolls, the load-in exception), every day of a year, for a spread of time sets."""
    sets = [{"load_in_at": "14:00", "doors_at": "19:30", "set_time_at": "22:45", "curfew_at": "01:15"},
            {"curfew_at": "01:00"}, {"doors_at": "05:59"}, {"load_in_at": "05:00", "doors_at": "04:00"},
            {"doors_at": "23:00", "set_time_at": "23:00", "curfew_at": "22:59"}, {"set_time_at": "06:00"}, {}]
    day = dt.date(2027, 1, 1)
    while day.year == 2027:
        for given in sets:
            try:
                expected = times.parse_local_times(day, tz, {f: given.get(f) or "" for f in times.TIME_FIELDS})
            except Exception as e:  # noqa: BLE001 - the fast path must refuse too
                with pytest.raises(ValueError):
                    times.local_instants(day, tz, given)
                assert type(e).__name__ == "UsageError"
                continue
            assert times.local_instants(day, tz, given) == expected, (day, given)
        day += dt.timedelta(days=1)


def test_the_same_show_written_two_ways_is_one_show():
    """Identity compares meanings, not texts: another spelling of the date, case and spaces in a name."""
    head = "date,city,country,venue_name,status,timezone\n"
    plan = read_plan("shows", "t.csv", "csv", data=head + "2027-01-05,Berlin,DE,Lido,hold,Europe/Berlin\n"
                                                          "2027-1-5,berlin,DE,  LIDO ,hold,Europe/Berlin\n"
                                                          "2027-01-06,Berlin,DE,Lido,hold,Europe/Berlin\n")
    assert [(p.line, p.message.split(" (")[0]) for p in plan.problems] == [(3, "the same show as line 2")]
    same_venue = head + "2027-01-05,Berlin,DE,Lido,hold,Europe/Berlin\n2027-01-06,BERLIN,AT,lido,hold,Europe/Vienna\n"
    plan = read_plan("shows", "t.csv", "csv", data=same_venue)
    assert sorted((p.line, p.column) for p in plan.problems) == [(3, "country"), (3, "timezone")]
    plan = read_plan("shows", "t.csv", "csv",
                     data=same_venue.replace("AT,lido,hold,Europe/Vienna", "DE,lido,hold,Europe/Berlin"))
    assert not plan.problems and len({row["venue"]["external_ref"] for row in plan.rows}) == 1
