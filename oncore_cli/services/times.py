"""Show times as people say them (local HH:MM at the venue) and as the database keeps them (instants).

A show day's times run in order — load-in, doors, set, curfew — so a time earlier than the one before it is
after midnight: doors 19:00 with curfew 01:00 is 01:00 the next morning.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from oncore_cli.core.errors import UsageError

TIME_FIELDS = ("load_in_at", "doors_at", "set_time_at", "curfew_at")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):?([0-5]\d)$")
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(?::00)?\s*([ap])\.?\s*m?\.?$|^(\d{1,2}):(\d{2})(?::00)?$", re.IGNORECASE)


def zone(name: str | None):
    """The IANA zone; UTC (with the caller warned elsewhere) when the venue has none."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name:
        return dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise UsageError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin") from e


def parse_date(text: str, what: str = "date") -> dt.date:
    text = text.strip()
    today = dt.date.today()
    if text.lower() == "today":
        return today
    if text.lower() == "tomorrow":
        return today + dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"bad {what} {text!r}: use YYYY-MM-DD, e.g. 2026-05-01") from None


def clock(text: str) -> str:
    """A wall-clock time as spreadsheets write it ("19:30", "19:30:00", "7:30 PM", "7pm") as "HH:MM".
    Raises ValueError."""
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time: use HH:MM (19:30) or h:MM AM/PM (7:30 PM)")
    if match.group(4) is not None:
        hour, minute = int(match.group(4)), int(match.group(5))
    else:
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r} is not a time: the hour of an AM/PM time is 1-12")
        hour = hour % 12 + (12 if match.group(3).lower() == "p" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day")
    return f"{hour:02d}:{minute:02d}"


def parse_local_times(day: dt.date, tz_name: str | None, given: dict[str, str | None],
                      existing: dict[str, dt.datetime | None] | None = None) -> dict[str, str | None]:
    """{field: "HH:MM" | ISO instant | "" (clear)} → {field: ISO instant | None} for the fields given.

    `existing` holds the show's current instants, so an update of one time still rolls past midnight correctly."""
    tz = zone(tz_name)
    start_of_day = dt.datetime.combine(day, dt.time(0), tz)
    current: dict[str, dt.datetime | None] = dict(existing or {})
    result: dict[str, str | None] = {}
    for field in TIME_FIELDS:
        if field in given and given[field] is not None:
            text = given[field].strip()
            current[field] = None if text == "" else _one(text, day, tz, field)
    previous: dt.datetime | None = None
    for field in TIME_FIELDS:
        value = current.get(field)
        if value is None:
            continue
        if field in given and given[field] and _HHMM.match(given[field].strip()):
            floor = previous or start_of_day
            while value < floor:  # earlier than the time before it: after midnight
                value = _add_local_day(value, tz)
            current[field] = value
        previous = value
    for field in TIME_FIELDS:
        if field in given and given[field] is not None:
            value = current.get(field)
            result[field] = value.isoformat() if value else None
    return result


def local_instants(day: dt.date, tz_name: str, given: dict[str, str | None]) -> dict[str, str | None]:
    """{field: "HH:MM" | None} for all four fields → {field: ISO instant | None}, by parse_local_times' rules (a
    time earlier than the one before it is the next day). Raises ValueError("field: ...") for a wall-clock time
    that does not exist that day (the hour skipped when daylight-saving time starts).

    Bulk imports call this per row: on the (usual) days whose UTC offset does not change it is plain arithmetic."""
    offset = _fixed_offset(day, tz_name)
    if offset is None:
        instants = {field: None for field in TIME_FIELDS}
        instants.update(parse_local_times(day, tz_name, given))
        for field in TIME_FIELDS:
            wanted = given.get(field)
            if wanted and local_hhmm(instants[field], tz_name)[:5] != wanted:
                raise ValueError(f"{field}: {wanted} does not exist in {tz_name} that night (the clocks skip that "
                                 "hour for daylight-saving time)")
        return instants
    midnight = dt.datetime.combine(day, dt.time(0), offset)
    result: dict[str, str | None] = {}
    previous = 0
    for field in TIME_FIELDS:
        text = given.get(field)
        if not text:
            result[field] = None
            continue
        minutes = int(text[:2]) * 60 + int(text[3:5])
        while minutes < previous:
            minutes += 24 * 60
        previous = minutes
        result[field] = (midnight + dt.timedelta(minutes=minutes)).isoformat()
    return result


@lru_cache(maxsize=8192)
def _fixed_offset(day: dt.date, tz_name: str) -> dt.timezone | None:
    """The zone's UTC offset if it stays the same from the day's midnight through the next two days, else None."""
    tz = zone(tz_name)
    midnight = dt.datetime.combine(day, dt.time(0))
    offsets = {(midnight + dt.timedelta(hours=hours)).replace(tzinfo=tz).utcoffset() for hours in range(0, 49, 3)}
    return dt.timezone(offsets.pop()) if len(offsets) == 1 else None


def _one(text: str, day: dt.date, tz, field: str) -> dt.datetime:
    match = _HHMM.match(text)
    if match:
        return dt.datetime.combine(day, dt.time(int(match.group(1)), int(match.group(2))), tz)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        flag = "--" + field.removesuffix("_at").replace("_", "-")
        raise UsageError(f"bad time {text!r} for {flag}: use HH:MM in the venue's time zone, e.g. 19:30") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def _add_local_day(value: dt.datetime, tz) -> dt.datetime:
    local = value.astimezone(tz)
    return dt.datetime.combine(local.date() + dt.timedelta(days=1), local.time().replace(tzinfo=None), tz)


def local_hhmm(value: str | dt.datetime | None, tz_name: str | None, day: str | dt.date | None = None) -> str:
    """An instant as the venue's wall-clock time, "HH:MM", with "+1" when it falls after the show day."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    try:
        tz = zone(tz_name)
    except UsageError:
        tz = dt.timezone.utc
    local = value.astimezone(tz)
    text = local.strftime("%H:%M")
    if day is not None:
        days = (local.date() - (dt.date.fromisoformat(day) if isinstance(day, str) else day)).days
        if days:
            text += f"{days:+d}"
    return text
