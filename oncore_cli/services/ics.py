"""Shows as an iCalendar file (RFC 5545) that Google Calendar and Apple Calendar import.

What they insist on: CRLF line endings, lines folded at 75 octets (never inside a UTF-8 sequence), a UID and
DTSTAMP per event, and escaped text. Times are written in UTC (`...Z`), which every client reads without a
VTIMEZONE block and shows in the viewer's zone; the description repeats them in the venue's local time.
A show without times becomes an all-day event on its local show day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from oncore_cli.models.core import Show
from oncore_cli.services.times import local_hhmm

PRODID = "-//oncore//oncore-cli//EN"
DEFAULT_LENGTH = dt.timedelta(hours=3)
TIME_LABELS = (("load_in_at", "Load-in"), ("doors_at", "Doors"), ("set_time_at", "Set"), ("curfew_at", "Curfew"))


def escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Split a content line into 75-octet pieces joined by CRLF + space."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    pieces, start, limit = [], 0, 75
    while start < len(encoded):
        end = min(start + limit, len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:  # don't cut a character in two
            end -= 1
        pieces.append(encoded[start:end].decode("utf-8"))
        start, limit = end, 74  # continuation lines start with a space
    return "\r\n ".join(pieces)


def _utc(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def event(show: Show, stamp: dt.datetime) -> list[str]:
    title = show.title or (f"{show.venue_name}" if show.venue_name else "Show")
    if show.status != "confirmed":
        title = f"{title} ({show.status})"
    lines = ["BEGIN:VEVENT", f"UID:{show.id}@oncore", f"DTSTAMP:{_utc(stamp)}"]
    start = show.doors_at or show.set_time_at or show.load_in_at
    if start is not None:
        end = show.curfew_at if show.curfew_at and show.curfew_at > start else start + DEFAULT_LENGTH
        lines += [f"DTSTART:{_utc(start)}", f"DTEND:{_utc(end)}"]
    else:
        lines += [f"DTSTART;VALUE=DATE:{show.date:%Y%m%d}",
                  f"DTEND;VALUE=DATE:{show.date + dt.timedelta(days=1):%Y%m%d}"]
    lines.append(f"SUMMARY:{escape(title)}")
    location = ", ".join(x for x in (show.venue_name, show.city) if x)
    if location:
        lines.append(f"LOCATION:{escape(location)}")
    details = [f"{label} {local_hhmm(getattr(show, field), show.timezone, show.date)}"
               for field, label in TIME_LABELS if getattr(show, field)]
    description = []
    if details:
        description.append(", ".join(details) + (f" ({show.timezone})" if show.timezone else " (UTC)"))
    description.append(f"Status: {show.status}")
    if show.notes:
        description.append(show.notes)
    lines.append(f"DESCRIPTION:{escape(chr(10).join(description))}")
    lines.append("STATUS:" + {"confirmed": "CONFIRMED", "cancelled": "CANCELLED"}.get(show.status, "TENTATIVE"))
    lines.append("END:VEVENT")
    return lines


def calendar(shows: Iterable[Show], name: str = "oncore shows", stamp: dt.datetime | None = None) -> str:
    stamp = stamp or dt.datetime.now(dt.timezone.utc)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape(name)}"]
    for show in shows:
        lines += event(show, stamp)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
