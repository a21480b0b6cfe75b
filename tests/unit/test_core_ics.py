import datetime as dt

from oncore_cli.models.core import Show
from oncore_cli.services.ics import calendar, escape, fold


def test_fold_splits_at_75_octets_without_cutting_characters():
    line = "DESCRIPTION:" + "Zürich–Köln " * 20
    folded = fold(line)
    pieces = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in pieces)
    assert all(p.startswith(" ") for p in pieces[1:])
    assert "".join([pieces[0], *(p[1:] for p in pieces[1:])]) == line
    assert fold("SHORT:x") == "SHORT:x"


def test_escape():
    assert escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_calendar_events():
    berlin_doors = dt.datetime(2026, 3, 29, 19, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    shows = [
        Show(id="a", org_id="o", date=dt.date(2026, 3, 29), status="confirmed", doors_at=berlin_doors,
             venue_name="SO36", city="Berlin", timezone="Europe/Berlin"),
        Show(id="b", org_id="o", date=dt.date(2026, 3, 30), status="cancelled"),
    ]
    text = calendar(shows, stamp=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    assert text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20260329T170000Z\r\nDTEND:20260329T200000Z\r\n" in text  # 3 hours when no curfew
    assert "DTSTAMP:20260101T000000Z" in text
    assert "DESCRIPTION:Doors 19:00 (Europe/Berlin)\\nStatus: confirmed" in text
    assert "SUMMARY:Show (cancelled)\r\n" in text and "STATUS:CANCELLED" in text
    assert "DTSTART;VALUE=DATE:20260330\r\nDTEND;VALUE=DATE:20260331" in text
