"""Show times as people say them (wall-clock HH:MM at the show) and as the database keeps them (instants), and
dates as people type them.

A show keeps its own IANA zone (its venue's unless given), so its wall-clock times never move when a venue's zone
is corrected or the venue goes. A show day's times run in order — load-in, doors, set, curfew — so a time earlier
than the one before it is after midnight (doors 19:00, curfew 01:00 is 01:00 the next morning), and a lone small-
hours time belongs to the show's night. A jump that lands in the next day's daytime is reported; one past the next
day is refused. A wall-clock time the zone skips (spring forward) or has twice (fall back) is an error that says so.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import lru_cache

from oncore_cli.core.errors import UsageError

TIME_FIELDS = ("load_in_at", "doors_at", "set_time_at", "curfew_at")
_HHMM = re.compile(r"^([01]?\d|2[0-3]):?([0-5]\d)$")
NIGHT_ENDS = dt.time(6, 0)  # a time before this, with no earlier time that day, belongs to the show's night
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(r"^([+-])(\d{1,4})([dw])$")
_CLOCK = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?(?::00)?\s*([ap])\.?\s*m?\.?$|^(\d{1,2}):(\d{2})(?::00)?$", re.IGNORECASE)


def zone(name: str | None):
    """The IANA zone (UTC for None, which callers that hold times refuse before asking)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not name:
        return dt.timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise UsageError(f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin") from e


def flag_of(field: str) -> str:
    """The CLI flag of a time column: doors_at → --doors."""
    return "--" + field.removesuffix("_at").replace("_", "-")


def parse_date(text: str, what: str = "date", *, today: dt.date | None = None) -> dt.date:
    """YYYY-MM-DD, or relative to today: today, tomorrow, yesterday, +3d, -1w, or a weekday name (the next one,
    today included) such as fri or friday."""
    text = text.strip()
    lowered = text.lower()
    today = today or dt.date.today()
    named = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if lowered in named:
        return today + dt.timedelta(days=named[lowered])
    relative = _RELATIVE.match(lowered)
    if relative:
        sign, count, unit = relative.groups()
        days = int(count) * (7 if unit == "w" else 1)
        return today + dt.timedelta(days=days if sign == "+" else -days)
    if len(lowered) >= 3:
        for index, name in enumerate(WEEKDAYS):
            if name.startswith(lowered):
                return today + dt.timedelta(days=(index - today.weekday()) % 7)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        pass
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})$", text)
    if match:  # well-formed but not a day of the calendar: say which part is wrong
        year, month, day = map(int, match.groups())
        if not 1 <= month <= 12:
            raise UsageError(f"bad {what} {text!r}: there is no month {month}")
        raise UsageError(f"bad {what} {text!r}: {dt.date(year, month, 1):%B %Y} has no day {day}")
    raise UsageError(f"bad {what} {text!r}: use YYYY-MM-DD (e.g. 2026-05-01), today, tomorrow, +3d or a weekday")


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


def local_instants(day: dt.date, tz_name: str, given: dict[str, str | None]) -> dict[str, str | None]:
    """parse_local_times for a bulk import: {field: "HH:MM" | None} for the four fields → {field: ISO instant |
    None}, by the same rules; a refusal is a ValueError "field: problem" (the file's row, not a flag, is at fault).

    On the usual day, whose UTC offset stays put until two days later, the same rules are plain arithmetic (a test
    holds the two to the same answers); other days, and anything refused, go through parse_local_times."""
    offset = _fixed_offset(day, tz_name)
    if offset is not None:
        result: dict[str, str | None] = {}
        previous = None
        for field in TIME_FIELDS:
            text = given.get(field)
            if not text:
                result[field] = None
                continue
            minutes = int(text[:2]) * 60 + int(text[3:5])
            floor = previous if previous is not None else (0 if field == "load_in_at" else NIGHT_ENDS.hour * 60)
            while minutes < floor:
                minutes += 24 * 60
            if minutes >= 48 * 60:
                break  # refused: let parse_local_times say why
            previous = minutes
            result[field] = (dt.datetime.combine(day, dt.time(0), offset) + dt.timedelta(minutes=minutes)).isoformat()
        else:
            return result
    try:
        instants = parse_local_times(day, tz_name, {f: given.get(f) or "" for f in TIME_FIELDS})
    except UsageError as e:
        message = e.message
        field = next((f for f in TIME_FIELDS if message.startswith(flag_of(f) + " ")), "")
        if field:
            message = message[len(flag_of(field)) + 1:]
        raise ValueError(f"{field}: {message}") from None
    return {f: instants.get(f) for f in TIME_FIELDS}


@lru_cache(maxsize=8192)
def _fixed_offset(day: dt.date, tz_name: str) -> dt.timezone | None:
    """The zone's UTC offset if it is the same from the day's midnight to two days later (no daylight-saving change
    in between), else None. Sampled at each midnight, both sides of a repeated hour: zones change their clocks at
    most twice a year, never twice within a day."""
    tz = zone(tz_name)
    midnight = dt.datetime.combine(day, dt.time(0))
    offsets = {(midnight + dt.timedelta(days=days)).replace(tzinfo=tz, fold=fold).utcoffset()
               for days in (0, 1, 2) for fold in (0, 1)}
    return dt.timezone(offsets.pop()) if len(offsets) == 1 else None


def parse_local_times(day: dt.date, tz_name: str | None, given: dict[str, str | None],
                      existing: dict[str, dt.datetime | None] | None = None,
                      note: Callable[[str], None] | None = None) -> dict[str, str | None]:
    """{field: "HH:MM" | ISO instant | "" (clear)} → {field: ISO instant | None} for the fields given.

    `existing` holds the show's current instants, so an update of one time still rolls past midnight correctly;
    `note` receives a sentence for each time that lands in the next day's daytime because of the order."""
    given = {f: v.strip() for f, v in given.items() if v is not None}
    tz = zone(tz_name)
    # Everything in local wall-clock terms (naive datetimes) until the end.
    wall: dict[str, dt.datetime | None] = {}
    for field in TIME_FIELDS:
        value = (existing or {}).get(field)
        if value is not None:
            wall[field] = value.astimezone(tz).replace(tzinfo=None)
    clocks: set[str] = set()
    exact: dict[str, dt.datetime] = {}
    for field in TIME_FIELDS:
        if field not in given:
            continue
        text = given[field]
        if text == "":
            wall[field] = None
            continue
        match = _HHMM.match(text)
        if match:
            wall[field] = dt.datetime.combine(day, dt.time(int(match.group(1)), int(match.group(2))))
            clocks.add(field)
            continue
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise UsageError(f"bad time {text!r} for {flag_of(field)}: use HH:MM at the show, e.g. 19:30") from None
        if value.tzinfo:
            exact[field] = value
            wall[field] = value.astimezone(tz).replace(tzinfo=None)
        else:
            wall[field] = value
    if not tz_name and any(given.get(f) for f in TIME_FIELDS):
        raise UsageError("show times need a time zone: give the venue one (oncore venues update VENUE --timezone "
                         "Europe/Berlin) or pass --timezone")
    previous: str | None = None
    notes: list[str] = []  # told only once every time is accepted
    for field in TIME_FIELDS:
        value = wall.get(field)
        if value is None:
            continue
        if field in clocks:
            if previous:
                floor = wall[previous]
            else:  # the first time of the day: small hours are the show's night, except for a load-in
                floor = dt.datetime.combine(day, dt.time(0) if field == "load_in_at" else NIGHT_ENDS)
            while value < floor:
                value += dt.timedelta(days=1)
            days = (value.date() - day).days
            if days >= 2:
                raise UsageError(f"{flag_of(field)} {given[field]} would fall {days} days after the show day "
                                 f"({day}): times run load-in, doors, set, curfew; check their order")
            if days == 1 and value.time() >= NIGHT_ENDS:
                after = f" is before {flag_of(previous)} {wall[previous]:%H:%M}" if previous else ""
                notes.append(f"{flag_of(field)} {given[field]}{after}, so it is taken as {value:%H:%M} on {value.date()}, "
                     f"the day after the show")
            wall[field] = value
        previous = field
    result: dict[str, str | None] = {}
    for field in TIME_FIELDS:
        if field in given:
            value = wall.get(field)
            if value is None:
                result[field] = None
            elif field in exact:
                result[field] = exact[field].isoformat()
            else:
                result[field] = localize(value, tz, tz_name, flag_of(field)).isoformat()
    for text in notes if note else ():
        note(text)
    return result


def localize(wall: dt.datetime, tz, tz_name: str | None, what: str) -> dt.datetime:
    """A wall-clock time in `tz` as an instant; one the zone skips or repeats is an error that says so."""
    first, second = wall.replace(tzinfo=tz, fold=0), wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    shown = f"{what} {wall:%H:%M}"
    if first.astimezone(dt.timezone.utc).astimezone(tz).replace(tzinfo=None) != wall:
        later = first.astimezone(dt.timezone.utc).astimezone(tz)
        raise UsageError(f"{shown} does not exist on {wall.date()} in {tz_name} (the clocks go forward that night): "
                         f"use {later:%H:%M}, or an instant with its offset")
    options = " or ".join(f"{wall:%Y-%m-%dT%H:%M}{_offset(x)}" for x in (first, second))
    raise UsageError(f"{shown} happens twice on {wall.date()} in {tz_name} (the clocks go back that night): "
                     f"give the instant with its offset, {options}")


def _offset(value: dt.datetime) -> str:
    text = value.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


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
    if tz_name in (None, "", "UTC", "Etc/UTC"):  # say so: a UTC time read as a local one is an hour or more off
        text += " UTC"
    return text


def country_zones(country: str) -> list[str]:
    """The IANA zones of an ISO 3166 country (the tz database's zone.tab), its main zone first."""
    from importlib.resources import files

    wanted = country.upper()
    for line in files("oncore_cli.services").joinpath("country_zones.txt").read_text().splitlines():
        code, _, names = line.partition(" ")
        if code == wanted:
            return names.split()
    return []


def infer_zone(country: str | None, city: str | None = None) -> str:
    """The zone of a venue given without one: only when its country keeps one clock everywhere (Germany's
    Büsingen keeps Berlin's), else a UsageError naming the candidates."""
    if not country:
        hint = _city_zone(city)
        raise UsageError("a venue needs --timezone (or --country, for a country with one time zone)"
                         + (f": {city} is probably {hint}" if hint else ", e.g. --timezone Europe/Berlin"))
    names = country_zones(country)
    if not names:
        raise UsageError(f"no time zone known for country {country.upper()!r}: pass --timezone")
    if _same_clock(names):
        return names[0]
    hint = _city_zone(city, names)
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    raise UsageError(f"{country.upper()} has more than one time zone: pass --timezone"
                     + (f" ({city} is probably {hint})" if hint else "") + f"; one of {shown}")


def _city_zone(city: str | None, names: list[str] | None = None) -> str | None:
    """A zone named after the city (Berlin → Europe/Berlin), as a hint only: many cities share a name."""
    if not city:
        return None
    key = city.strip().lower().replace(" ", "_")
    if names is None:
        from zoneinfo import available_timezones

        names = sorted(available_timezones())
    return next((n for n in names if n.rsplit("/", 1)[-1].lower() == key), None)


def _same_clock(names: list[str]) -> bool:
    """True if every zone shows the same offset as the first, day by day, over the next two years."""
    if len(names) == 1:
        return True
    zones = [zone(n) for n in names]
    start = dt.datetime.now(dt.timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0)
    for days in range(0, 2 * 366):
        instant = start + dt.timedelta(days=days)
        offsets = {instant.astimezone(z).utcoffset() for z in zones}
        if len(offsets) > 1:
            return False
    return True
