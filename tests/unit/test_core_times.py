import datetime as dt

import pytest

from oncore_cli.core.errors import UsageError
from oncore_cli.services.times import local_hhmm, parse_date, parse_local_times


def test_local_times_become_instants_in_the_venue_zone():
    got = parse_local_times(dt.date(2026, 1, 10), "America/New_York", {"doors_at": "19:00", "curfew_at": "23:30"})
    assert got == {"doors_at": "2026-01-10T19:00:00-05:00", "curfew_at": "2026-01-10T23:30:00-05:00"}


def test_times_after_midnight_roll_to_the_next_day_even_across_dst():
    # Europe/Berlin switches to summer time in the night of 28/29 March 2026.
    got = parse_local_times(dt.date(2026, 3, 28), "Europe/Berlin",
                            {"load_in_at": "15:00", "doors_at": "20:00", "set_time_at": "23:45", "curfew_at": "03:00"})
    assert got["curfew_at"] == "2026-03-29T03:00:00+02:00"
    assert got["set_time_at"] == "2026-03-28T23:45:00+01:00"


def test_update_rolls_relative_to_existing_times_and_clears():
    doors = dt.datetime(2026, 5, 1, 17, 0, tzinfo=dt.timezone.utc)
    got = parse_local_times(dt.date(2026, 5, 1), "Europe/Berlin", {"curfew_at": "00:30"}, {"doors_at": doors})
    assert got == {"curfew_at": "2026-05-02T00:30:00+02:00"}
    assert parse_local_times(dt.date(2026, 5, 1), "Europe/Berlin", {"curfew_at": ""}) == {"curfew_at": None}


def test_full_instants_pass_through():
    got = parse_local_times(dt.date(2026, 5, 1), "Europe/Berlin", {"doors_at": "2026-05-01T18:00:00+00:00"})
    assert got == {"doors_at": "2026-05-01T18:00:00+00:00"}


@pytest.mark.parametrize("bad", ["7pm", "25:00", "19:60", "tomorrow at 8"])
def test_bad_times(bad):
    with pytest.raises(UsageError, match="--doors"):
        parse_local_times(dt.date(2026, 5, 1), "Europe/Berlin", {"doors_at": bad})


def test_bad_zone_and_date():
    with pytest.raises(UsageError, match="unknown time zone 'Europe/Atlantis'"):
        parse_local_times(dt.date(2026, 5, 1), "Europe/Atlantis", {"doors_at": "19:00"})
    with pytest.raises(UsageError, match="YYYY-MM-DD"):
        parse_date("01/05/2026")
    assert parse_date("today") == dt.date.today()


def test_local_hhmm():
    assert local_hhmm("2026-05-01T23:00:00Z", "Europe/Berlin") == "01:00"
    assert local_hhmm("2026-05-01T23:00:00Z", "Europe/Berlin", "2026-05-01") == "01:00+1"
    assert local_hhmm("2026-05-01T17:00:00Z", "Europe/Berlin", "2026-05-01") == "19:00"
    assert local_hhmm(None, "Europe/Berlin") == ""
